namespace ZeroPg.Replication.Walsender;

/// <summary>Which operations the named publications publish for each table, and which of its columns (a publication's column
/// list; without one, all: pg_publication_tables.attnames, united over the publications). Read from the engine at every poll,
/// so CREATE/ALTER PUBLICATION takes effect at once.</summary>
internal sealed class PublicationSet(Dictionary<uint, (bool Insert, bool Update, bool Delete, bool Truncate)> tables,
    Dictionary<uint, HashSet<string>> columns)
{
    public static string Sql(IReadOnlyList<string> publications) => $"""
        SELECT c.oid, bool_or(p.pubinsert), bool_or(p.pubupdate), bool_or(p.pubdelete), bool_or(p.pubtruncate),
               pg_catalog.jsonb_agg(t.attnames)::text
        FROM pg_catalog.pg_publication p
        JOIN pg_catalog.pg_publication_tables t ON t.pubname = p.pubname
        JOIN pg_catalog.pg_namespace n ON n.nspname = t.schemaname
        JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
        WHERE p.pubname IN ({string.Join(',', publications.Select(EngineResults.Literal))})
          AND n.nspname <> 'zeropg_repl' AND c.relname NOT LIKE 'zeropg\_internal%'
        GROUP BY c.oid
        """;

    public static string ExistingSql(IReadOnlyList<string> publications)
        => $"SELECT pubname FROM pg_catalog.pg_publication WHERE pubname IN ({string.Join(',', publications.Select(EngineResults.Literal))})";

    public static PublicationSet FromRows(IEnumerable<string?[]> rows)
    {
        var list = rows.ToList();
        return new(list.ToDictionary(r => uint.Parse(r[0]!), r => (r[1] == "t", r[2] == "t", r[3] == "t", r[4] == "t")),
            list.ToDictionary(r => uint.Parse(r[0]!), r => Columns(r[5]!)));
    }

    private static HashSet<string> Columns(string json)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        foreach (var publication in document.RootElement.EnumerateArray())
        {
            if (publication.ValueKind != System.Text.Json.JsonValueKind.Array)
                continue;
            foreach (var name in publication.EnumerateArray())
                names.Add(name.GetString()!);
        }
        return names;
    }

    /// <summary>Each shape once per poll as <see cref="Restrict"/> made it (it is asked for every change).</summary>
    private readonly Dictionary<PublishedRelation, PublishedRelation> _restricted = new(ReferenceEqualityComparer.Instance);

    /// <summary><paramref name="relation"/> as the publications send it: only the columns they publish.</summary>
    public PublishedRelation Restrict(PublishedRelation relation)
    {
        if (!columns.TryGetValue(relation.Oid, out var names))
            return relation;
        if (!_restricted.TryGetValue(relation, out var restricted))
            _restricted[relation] = restricted = relation.Only(names);
        return restricted;
    }

    public bool Publishes(uint? relation, char op) => relation is { } oid && tables.TryGetValue(oid, out var t) && op switch
    {
        'I' => t.Insert,
        'U' => t.Update,
        'D' => t.Delete,
        'T' => t.Truncate,
        _ => false,
    };
}
