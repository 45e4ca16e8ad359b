using System.Text.Json;
using ZeroPg.Replication.PgOutput;

namespace ZeroPg.Replication.Walsender;

/// <summary>A published table as pgoutput describes it, from a shape recorded by the capture (zeropg_repl.shapes, see
/// Capture/CaptureSchema). <see cref="Included"/> says, for each column of a captured record (every non-dropped column,
/// in attnum order), whether pgoutput sends it. A shape holds every column; the publications' columns
/// (<see cref="PublicationSet.Restrict"/>, pg_publication_tables.attnames) leave out the generated ones unless
/// publish_generated_columns = stored or a column list names them, as Postgres 18 does.</summary>
internal sealed record PublishedRelation(uint Oid, string Namespace, string Name, ReplicaIdentity Identity,
    IReadOnlyList<RelationColumn> Columns, IReadOnlyList<bool> Included, IReadOnlyList<TypeMessage> Types, IReadOnlyList<string> CapturedNames)
{
    /// <summary>For each column of this relation's captured record, where the same column (by name) sits in a record captured from
    /// <paramref name="partition"/>, or -1: a partition's columns may be in another order than its root's.</summary>
    public int[] PositionsIn(PublishedRelation partition)
        => [.. CapturedNames.Select(name => IndexOf(partition.CapturedNames, name))];

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
                return i;
        }
        return -1;
    }

    /// <summary>What a Relation message carries: a change of it (ALTER TABLE) sends a new one.</summary>
    public string Fingerprint => string.Join('\u0001', [Namespace, Name, ((char)Identity).ToString(),
        .. Columns.Select(c => $"{c.Name}:{c.TypeOid}:{c.TypeModifier}:{c.IsKey}")]);

    public RelationMessage Message => new(Oid, Namespace, Name, Identity, Columns);

    /// <summary>The relation with only the columns named in <paramref name="published"/> (a publication's column list): the others
    /// leave its Relation message, their Type messages and every tuple.</summary>
    public PublishedRelation Only(IReadOnlySet<string> published)
    {
        if (Columns.All(c => published.Contains(c.Name)))
            return this;
        var included = new List<bool>(Included.Count);
        var columns = new List<RelationColumn>();
        var types = new List<TypeMessage>();
        var column = 0;
        var type = 0;
        foreach (var sent in Included)
        {
            if (!sent)
            {
                included.Add(false);
                continue;
            }
            var c = Columns[column++];
            var hasType = c.TypeOid >= 10000;
            var keep = published.Contains(c.Name);
            included.Add(keep);
            if (keep)
            {
                columns.Add(c);
                if (hasType)
                    types.Add(Types[type]);
            }
            if (hasType)
                type++;
        }
        return this with { Columns = columns, Included = included, Types = types };
    }

    /// <summary>Every recorded shape of the tables, oldest first, and the current one of a table that has none recorded.</summary>
    public static string ShapesSql(IEnumerable<uint> oids)
    {
        var list = string.Join(',', oids);
        return $"""
            SELECT relid, lsn::text, shape::text FROM (
                SELECT relid, lsn, shape FROM zeropg_repl.shapes WHERE relid IN ({list})
                UNION ALL
                SELECT c.oid, '0/0'::pg_lsn, zeropg_repl.describe(c.oid) FROM pg_catalog.pg_class c
                WHERE c.oid IN ({list}) AND NOT EXISTS (SELECT 1 FROM zeropg_repl.shapes s WHERE s.relid = c.oid)) x
            ORDER BY relid, lsn
            """;
    }

    /// <summary>to_jsonb writes an oid as a string (oid has no JSON type), a number elsewhere.</summary>
    private static uint OidOf(JsonElement e) => e.ValueKind == JsonValueKind.String ? uint.Parse(e.GetString()!) : e.GetUInt32();

    public static PublishedRelation FromShape(uint oid, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var columns = new List<RelationColumn>();
        var included = new List<bool>();
        var types = new List<TypeMessage>();
        var names = new List<string>();
        if (root.TryGetProperty("cols", out var cols) && cols.ValueKind == JsonValueKind.Array)
        {
            foreach (var col in cols.EnumerateArray())
            {
                names.Add(col.GetProperty("n").GetString()!);
                included.Add(true);
                var typeOid = OidOf(col.GetProperty("t"));
                columns.Add(new RelationColumn(col.GetProperty("k").GetBoolean(), col.GetProperty("n").GetString()!, typeOid, col.GetProperty("m").GetInt32()));
                if (typeOid >= 10000) // one 'Y' per such column, as pgoutput's send_relation_and_attrs (two enum columns: two)
                    types.Add(new TypeMessage(typeOid, col.GetProperty("tns").GetString()!, col.GetProperty("tn").GetString()!));
            }
        }
        return new PublishedRelation(oid, root.GetProperty("nsp").GetString()!, root.GetProperty("name").GetString()!,
            (ReplicaIdentity)root.GetProperty("ident").GetString()![0], columns, included, types, names);
    }
}

/// <summary>The shapes of the relations a batch of changes touches: each change is read with its table's shape at its LSN.</summary>
internal sealed class RelationShapes(Dictionary<uint, List<(Lsn Lsn, PublishedRelation Relation)>> shapes)
{
    public static readonly RelationShapes Empty = new([]);

    public static RelationShapes FromRows(IEnumerable<string?[]> rows)
    {
        var shapes = new Dictionary<uint, List<(Lsn, PublishedRelation)>>();
        foreach (var r in rows)
        {
            if (r[2] is null)
                continue; // the table is gone
            var oid = uint.Parse(r[0]!);
            Lsn.TryParse(r[1], out var lsn);
            if (!shapes.TryGetValue(oid, out var list))
                shapes[oid] = list = [];
            list.Add((lsn, PublishedRelation.FromShape(oid, r[2]!)));
        }
        return new RelationShapes(shapes);
    }

    /// <summary>The change at <paramref name="at"/> was recorded under the table's latest shape (the current one: every ALTER TABLE records one).</summary>
    public bool IsCurrent(uint oid, Lsn at) => shapes.TryGetValue(oid, out var list) && list.Count > 0 && (list.Count == 1 || list[^1].Lsn <= at);

    /// <summary>The shape recorded last at or before <paramref name="at"/> (the oldest when all are later); null when the table is gone.</summary>
    public PublishedRelation? At(uint oid, Lsn at)
    {
        if (!shapes.TryGetValue(oid, out var list) || list.Count == 0)
            return null;
        var found = list[0].Relation;
        foreach (var (lsn, relation) in list)
        {
            if (lsn > at)
                break;
            found = relation;
        }
        return found;
    }
}
