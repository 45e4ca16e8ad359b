namespace ZeroPg.Replication.Walsender;

/// <summary>
/// Which captured rows pass their publications' row filters (Capture/RowFilters), for the changes of one poll. A change that
/// is not listed passes: its table has no filter for its action. An UPDATE whose old row passes and new row does not is
/// sent as a DELETE, the other way round as an INSERT, neither: not at all (pgoutput's pgoutput_row_filter).
/// </summary>
internal sealed class RowFilterMatches(Dictionary<long, (bool Old, bool New)> matches)
{
    public static readonly RowFilterMatches None = new([]);

    /// <summary>The query for the changes (seq, old row passes, new row passes) of tables whose publications filter rows: each
    /// captured table with the relation it is published as (a partition published via its root has the root's filters, evaluated
    /// on the partition's row by column name).</summary>
    public static string Sql(IReadOnlyList<string> publications, IEnumerable<(uint Captured, uint Published)> tables, IEnumerable<long> seqs) => $"""
        WITH f AS (
            SELECT r.relid, o.op, zeropg_repl.row_filter(r.pubrel, o.op, ARRAY[{string.Join(',', publications.Select(EngineResults.Literal))}]::text[]) AS filter
            FROM unnest(ARRAY[{string.Join(',', tables.Select(t => t.Captured))}]::oid[], ARRAY[{string.Join(',', tables.Select(t => t.Published))}]::oid[]) r(relid, pubrel),
                 unnest('{"{I,U,D}"}'::"char"[]) o(op))
        SELECT c.seq, zeropg_repl.row_matches(c.relid, f.filter, c.old_row, c.lsn), zeropg_repl.row_matches(c.relid, f.filter, c.new_row, c.lsn)
        FROM zeropg_repl.decodable_changes c JOIN f ON f.relid = c.relid AND f.op = c.op
        WHERE c.seq IN ({string.Join(',', seqs)}) AND f.filter IS NOT NULL
        """;

    public static RowFilterMatches FromRows(IEnumerable<string?[]> rows)
        => new(rows.ToDictionary(r => long.Parse(r[0]!), r => (r[1] == "t", r[2] == "t")));

    /// <summary>The operation the change is sent as after its row filter: I, U, D, or '\0' for none.</summary>
    public char Apply(CapturedChange change)
    {
        if (!matches.TryGetValue(change.Seq, out var m))
            return change.Op;
        return change.Op switch
        {
            'I' => m.New ? 'I' : '\0',
            'D' => m.Old ? 'D' : '\0',
            'U' => (m.Old, m.New) switch
            {
                (true, true) => 'U',
                (true, false) => 'D',
                (false, true) => 'I',
                _ => '\0',
            },
            _ => change.Op,
        };
    }
}
