namespace ZeroPg.Replication.Walsender;

/// <summary>Which operations the named publications publish for each table, whether a row filter applies, which of its columns
/// (a publication's column list; without one, all: pg_publication_tables.attnames, united over the publications), and which
/// partitions are published as their root (publish_via_partition_root: pg_publication_tables lists the root alone, and its
/// partitions' changes go out under the root's Relation). Read from the engine at every poll, so CREATE/ALTER PUBLICATION
/// takes effect at once.</summary>
internal sealed class PublicationSet(Dictionary<uint, (bool Insert, bool Update, bool Delete, bool Truncate)> tables,
    Dictionary<uint, HashSet<string>> columns, HashSet<uint> filtered, Dictionary<uint, uint> roots)
{
    /// <summary>One row per published table (its root column empty), then one per partition published as its root.</summary>
    public static string Sql(IReadOnlyList<string> publications) => $"""
        WITH listed AS (
            SELECT c.oid, c.relkind, p.pubviaroot, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, t.attnames, t.rowfilter
            FROM pg_catalog.pg_publication p
            JOIN pg_catalog.pg_publication_tables t ON t.pubname = p.pubname
            JOIN pg_catalog.pg_namespace n ON n.nspname = t.schemaname
            JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
            WHERE p.pubname IN ({string.Join(',', publications.Select(EngineResults.Literal))})
              AND n.nspname <> 'zeropg_repl' AND c.relname NOT LIKE 'zeropg\_internal%')
        SELECT oid, bool_or(pubinsert), bool_or(pubupdate), bool_or(pubdelete), bool_or(pubtruncate),
               pg_catalog.jsonb_agg(attnames)::text, bool_or(rowfilter IS NOT NULL), NULL::oid
        FROM listed GROUP BY oid
        UNION ALL
        SELECT DISTINCT ON (tree.relid) tree.relid::oid, NULL, NULL, NULL, NULL, NULL, NULL, l.oid
        FROM listed l CROSS JOIN LATERAL pg_catalog.pg_partition_tree(l.oid) tree
        WHERE l.pubviaroot AND l.relkind = 'p' AND tree.relid <> l.oid
        """;

    public static string ExistingSql(IReadOnlyList<string> publications)
        => $"SELECT pubname FROM pg_catalog.pg_publication WHERE pubname IN ({string.Join(',', publications.Select(EngineResults.Literal))})";

    public static PublicationSet FromRows(IEnumerable<string?[]> rows)
    {
        var all = rows.ToList();
        var list = all.Where(r => r[7] is null).ToList();
        return new(list.ToDictionary(r => uint.Parse(r[0]!), r => (r[1] == "t", r[2] == "t", r[3] == "t", r[4] == "t")),
            list.ToDictionary(r => uint.Parse(r[0]!), r => Columns(r[5]!)),
            list.Where(r => r[6] == "t").Select(r => uint.Parse(r[0]!)).ToHashSet(),
            all.Where(r => r[7] is not null).ToDictionary(r => uint.Parse(r[0]!), r => uint.Parse(r[7]!)));
    }

    /// <summary>The relation a table's changes are published as: its root when a publication publishes it via the root
    /// (that wins over a publication listing the partition itself, as in Postgres), else itself.</summary>
    public uint PublishedAs(uint relation) => roots.TryGetValue(relation, out var root) ? root : relation;

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

    /// <summary><paramref name="relation"/> as the publications send it: only the columns they publish (those of
    /// <paramref name="publishedAs"/>, its root, for a partition published via its root).</summary>
    public PublishedRelation Restrict(PublishedRelation relation, uint? publishedAs = null)
    {
        if (!columns.TryGetValue(publishedAs ?? relation.Oid, out var names))
            return relation;
        if (!_restricted.TryGetValue(relation, out var restricted))
            _restricted[relation] = restricted = relation.Only(names);
        return restricted;
    }

    /// <summary>A publication filters some of the table's rows (a row filter); <see cref="RowFilterMatches"/> says which.</summary>
    public bool FiltersRows(uint relation) => filtered.Contains(relation);

    public bool Publishes(uint? relation, char op) => relation is { } oid && tables.TryGetValue(oid, out var t) && op switch
    {
        'I' => t.Insert,
        'U' => t.Update,
        'D' => t.Delete,
        'T' => t.Truncate,
        _ => false,
    };
}
