namespace ZeroPg.Replication.Walsender;

/// <summary>
/// <c>binary 'true'</c>: each column's send-function bytes ('b'), as pgoutput sends them. The capture keeps rows as
/// record text; the engine turns one back into the table's row type and applies each column's send function
/// (pg_type.typsend), for all the rows of a poll at once. A row recorded under an older shape of its table (before an
/// ALTER TABLE still in the stream) cannot be cast that way: its fields are typed one by one with that shape
/// (<see cref="Install"/>'s zeropg_repl.send_values). Types without a send function stay text ('t').
/// </summary>
internal sealed class BinaryValues(Dictionary<(long Seq, bool Old), List<byte[]?>> values)
{
    public static readonly BinaryValues None = new([]);

    public const string Install = """
        CREATE OR REPLACE FUNCTION zeropg_repl.send_values(rel oid, rec text, at pg_lsn) RETURNS text[]
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE shape jsonb := zeropg_repl.shape_at(rel, at); cells text; result text[];
        BEGIN
            IF rec IS NULL OR shape IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(shape -> 'cols') c
                JOIN pg_type t ON t.oid = (c ->> 't')::oid WHERE t.typsend = 0) THEN
                RETURN NULL;
            END IF;
            SELECT string_agg(format('encode(%s($1[%s]::%s), ''hex'')', t.typsend::regproc, c.o, format_type(t.oid, (c.c ->> 'm')::integer)), ', ' ORDER BY c.o)
            INTO cells FROM jsonb_array_elements(shape -> 'cols') WITH ORDINALITY AS c(c, o) JOIN pg_type t ON t.oid = (c.c ->> 't')::oid;
            EXECUTE format('SELECT ARRAY[%s]::text[]', cells) INTO result USING zeropg_repl.record_fields(rec);
            RETURN result;
        END $$;
        """;

    /// <summary>The query for rows recorded under an older shape of their table (seq, 'n'/'o', column ordinal, hex bytes).</summary>
    public static string OlderShapesSql(IEnumerable<long> seqs) => $"""
        SELECT c.seq, w.which, v.ord, v.val
        FROM zeropg_repl.decodable_changes c
        CROSS JOIN LATERAL (VALUES ('n', c.new_row), ('o', c.old_row)) w(which, rec)
        CROSS JOIN LATERAL unnest(zeropg_repl.send_values(c.relid, w.rec, c.lsn)) WITH ORDINALITY v(val, ord)
        WHERE c.seq IN ({string.Join(',', seqs)}) AND w.rec IS NOT NULL
        """;

    /// <summary>Each column's send function (schema-qualified regproc text, '-' when none), in attnum order.</summary>
    public static string SendFunctionsSql(IEnumerable<uint> oids) => $"""
        SELECT a.attrelid, a.attrelid::regclass::text, a.attname, t.typsend::regproc::text
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid IN ({string.Join(',', oids)}) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
        """;

    /// <summary>The query for the changes' rows (seq, 'n'/'o', column ordinal, hex bytes), or null when nothing needs one.</summary>
    public static string? ValuesSql(IEnumerable<string?[]> sendFunctions, IReadOnlyDictionary<uint, List<long>> seqsByRelation)
    {
        var parts = new List<string>();
        foreach (var relation in sendFunctions.GroupBy(r => uint.Parse(r[0]!)))
        {
            if (!seqsByRelation.TryGetValue(relation.Key, out var seqs) || seqs.Count == 0 || relation.Any(r => r[3] is null or "-"))
                continue; // a column type without a send function: the relation's rows stay text
            var type = relation.First()[1]!;
            foreach (var (column, which) in new[] { ("new_row", "n"), ("old_row", "o") })
            {
                var cells = relation.Select(r => $"encode({r[3]}(({column}::{type}).{QuoteIdentifier(r[2]!)}), 'hex')");
                parts.Add($"SELECT c.seq, '{which}', v.ord, v.val FROM zeropg_repl.decodable_changes c, " +
                    $"unnest(ARRAY[{string.Join(", ", cells)}]) WITH ORDINALITY v(val, ord) " +
                    $"WHERE c.seq IN ({string.Join(',', seqs)}) AND c.{column} IS NOT NULL");
            }
        }
        return parts.Count == 0 ? null : string.Join("\nUNION ALL\n", parts);
    }

    public static BinaryValues FromRows(IEnumerable<string?[]> rows)
    {
        var values = new Dictionary<(long, bool), List<byte[]?>>();
        foreach (var r in rows)
        {
            var key = (long.Parse(r[0]!), r[1] == "o");
            if (!values.TryGetValue(key, out var list))
                values[key] = list = [];
            var ordinal = int.Parse(r[2]!) - 1;
            while (list.Count <= ordinal)
                list.Add(null);
            list[ordinal] = r[3] is null ? null : Convert.FromHexString(r[3]!);
        }
        return new BinaryValues(values);
    }

    /// <summary>Each column's bytes (null for NULL) of a change's new or old row; null when the change has no binary form.</summary>
    public IReadOnlyList<byte[]?>? Of(long seq, bool old) => values.TryGetValue((seq, old), out var list) ? list : null;

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
