using System.Globalization;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions;

namespace ZeroPg.Storage.Snapshots;

/// <summary>
/// The rows of a database's tables and its sequences' values at a snapshot, with what its catalogs held then, so that a
/// restore which finds the schema as it was (tests that change only rows, the common case) puts the rows back inside the
/// running engine, tens of milliseconds, instead of swapping engines, seconds. Only tables whose rows changed are emptied
/// (TRUNCATE, with the tables referencing them) and refilled (binary COPY, triggers and foreign keys off as in
/// replication, session_replication_role = replica), all sequences set back, in one transaction; any error rolls it
/// back and the caller swaps engines. Which changes it sees: <see cref="RowSnapshotSql"/>.
/// Not taken (null) when a table has an ALWAYS trigger (it would fire while rows are put back) or the rows are large.
/// Used by one snapshot or restore at a time (<see cref="DatabaseSnapshots"/>), with the engine held.
/// </summary>
internal sealed partial class RowSnapshot
{
    /// <summary>Rows beyond this are not kept in memory; restores then swap engines.</summary>
    private const long MaxBytes = 64L << 20;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly IReadOnlyList<(string Name, long Count)> _catalogs;
    private readonly IReadOnlyDictionary<string, (string Sql, string Hash)> _contents; // RowSnapshotSql.Content's catalogs
    private readonly IReadOnlyList<(SnapshotTable Table, long Count, byte[] Rows)> _tables;
    private readonly IReadOnlyList<(string Name, string Value, bool Called)> _sequences;
    private readonly IReadOnlyList<(uint Referencing, uint Referenced)> _foreignKeys;
    private readonly long _takenAt;

    /// <summary>The transaction after which a change counts: the snapshot's, then that of the last restore in this engine.</summary>
    private long _baseline;

    /// <summary>
    /// The engine the baseline is of: the database's services and their engine generation. Another engine (the database
    /// dropped and made again, or its engine restarted after a crash) has other transaction ids: only a swap is sure then.
    /// </summary>
    private (object Services, int Generation) _engine;

    private RowSnapshot(IReadOnlyList<(string, long)> catalogs, IReadOnlyDictionary<string, (string, string)> contents,
        IReadOnlyList<(SnapshotTable, long, byte[])> tables, IReadOnlyList<(string, string, bool)> sequences, IReadOnlyList<(uint, uint)> foreignKeys, long takenAt)
    {
        _catalogs = catalogs;
        _contents = contents;
        _tables = tables;
        _sequences = sequences;
        _foreignKeys = foreignKeys;
        _baseline = _takenAt = takenAt;
    }

    public long Bytes => _tables.Sum(t => (long)t.Rows.Length);

    /// <summary>Reads the rows (in the engine's current state: the caller holds it, no transaction is open), or null when they cannot be put back so.</summary>
    public static async Task<RowSnapshot?> TakeAsync(EngineProcess engine, EngineSessionState state, ILogger logger)
    {
        var shape = await RunAsync(engine, state, [RowSnapshotSql.Shape]);
        if (shape[^1].Error is { } shapeError)
            return NotTaken(logger, shapeError.Message);
        var rows = shape[^1].Rows;
        if (rows.Any(r => r[0] == "a"))
            return NotTaken(logger, "a table has an ALWAYS trigger");
        var catalogs = rows.Where(r => r[0] == "c").Select(r => r[1]!).ToList();
        var tableRows = rows.Where(r => r[0] == "t").ToList();
        if (tableRows.Any(r => r[3] is null))
            return NotTaken(logger, "a table has no column COPY can write");
        var tables = tableRows.Select(r => new SnapshotTable(uint.Parse(r[2]!, CultureInfo.InvariantCulture), r[1]!, r[3]!)).ToList();
        var sequences = rows.Where(r => r[0] == "s").Select(r => r[1]!).ToList();
        var foreignKeys = rows.Where(r => r[0] == "f").Select(r => (uint.Parse(r[1]!, CultureInfo.InvariantCulture), uint.Parse(r[2]!, CultureInfo.InvariantCulture))).ToList();
        var contents = rows.Where(r => r[0] == "k").Select(r => (Catalog: r[1]!, Sql: RowSnapshotSql.Content(r[1]!, r[3]!))).ToList();

        // One transaction: the counts, values and rows are of one moment, and its id is the baseline.
        var results = await RunAsync(engine, state, [
            "BEGIN ISOLATION LEVEL REPEATABLE READ",
            RowSnapshotSql.CurrentXid,
            RowSnapshotSql.Counts(catalogs),
            RowSnapshotSql.Counts(tables.Select(t => t.Name)),
            RowSnapshotSql.SequenceValues(sequences),
            RowSnapshotSql.Hashes(contents.Select(c => c.Sql)),
            .. tables.Select(RowSnapshotSql.CopyOut),
            "COMMIT",
        ]);
        var mine = results.Skip(results.Count - (7 + tables.Count)).ToList();
        if (mine.FirstOrDefault(r => r.Error is not null)?.Error is { } error)
            return NotTaken(logger, error.Message);
        var xid = long.Parse(mine[1].Rows[0][0]!, CultureInfo.InvariantCulture);
        var catalogCounts = Numbers(mine[2].Rows[0][0]);
        var tableCounts = Numbers(mine[3].Rows[0][0]);
        var sequenceValues = (mine[4].Rows[0][0] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split(':')).ToList();
        var hashes = (mine[5].Rows[0][0] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var copied = mine.Skip(6).Take(tables.Count).Select(r => r.Copied?.ToArray() ?? []).ToList();
        if (copied.Sum(c => (long)c.Length) > MaxBytes)
            return NotTaken(logger, $"the rows are over {MaxBytes >> 20} MB");
        return new RowSnapshot(
            [.. catalogs.Zip(catalogCounts)],
            contents.Zip(hashes).ToDictionary(c => c.First.Catalog, c => (c.First.Sql, c.Second)),
            [.. tables.Select((t, i) => (t, tableCounts[i], copied[i]))],
            [.. sequences.Zip(sequenceValues, (name, value) => (name, value[0], value[1] == "true"))],
            foreignKeys, xid);
    }

    /// <summary>
    /// Puts the snapshot's rows back when the catalogs are as they were; false when they are not (or putting back failed and was
    /// rolled back): the caller swaps engines then, and tells <see cref="EngineSwapped"/>.
    /// </summary>
    public async Task<bool> TryRestoreAsync(EngineProcess engine, EngineSessionState state, ILogger logger)
    {
        var tables = _tables.Select(t => (t.Table, t.Count)).ToList();
        var check = await RunAsync(engine, state, [RowSnapshotSql.Changes(_catalogs, _contents, tables, _baseline)]);
        if (check[^1].Error is { } checkError)
            return NotRestored(logger, checkError.Message);
        var flags = check[^1].Rows[0][0] ?? "1";
        if (flags[0] == '1')
            return NotRestored(logger, "the schema changed since the snapshot");
        var emptied = Closure(_tables.Where((_, i) => flags[i + 1] == '1').Select(t => t.Table.Oid));
        var refill = _tables.Where(t => emptied.Contains(t.Table.Oid)).ToList();
        var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), state);
        var statements = 0;
        void Query(string sql)
        {
            QueryMessage.Write(batch, sql);
            statements++;
        }
        Query("BEGIN");
        Query("SET LOCAL session_replication_role = replica");
        if (refill.Count > 0)
            Query("TRUNCATE ONLY " + string.Join(", ", refill.Select(t => t.Table.Name)));
        foreach (var (table, _, rows) in refill)
        {
            Query(RowSnapshotSql.CopyIn(table));
            CopyDataMessage.Write(batch, rows);
            EmptyFrontendMessage.Write(batch, Protocol.FrontendCode.CopyDone);
        }
        Query(RowSnapshotSql.SetSequences(_sequences));
        Query(RowSnapshotSql.CurrentXid);
        Query("COMMIT");
        var results = await QueryResults.RunAsync(engine, batch, Timeout);
        var mine = results.Skip(results.Count - statements).ToList();
        if (mine.FirstOrDefault(r => r.Error is not null)?.Error is { } error)
            return NotRestored(logger, error.Message); // the COMMIT rolled it all back
        _baseline = long.Parse(mine[^2].Rows[0][0]!, CultureInfo.InvariantCulture);
        Log.Restored(logger, refill.Count, refill.Sum(t => t.Count));
        return true;
    }

    /// <summary>The baseline belongs to this engine (checked before rows are put back in place).</summary>
    public bool IsFor(object services, int generation) => _engine == (services, generation);

    /// <summary>The snapshot was taken in this engine.</summary>
    public void TakenIn(object services, int generation) => _engine = (services, generation);

    /// <summary>The engine now runs from the snapshot's dump: the rows are as the snapshot took them.</summary>
    public void EngineSwapped(object services, int generation)
    {
        _baseline = _takenAt;
        _engine = (services, generation);
    }

    /// <summary>The tables to empty: those whose rows changed and, as TRUNCATE requires, every table referencing one of them.</summary>
    private HashSet<uint> Closure(IEnumerable<uint> changed)
    {
        var set = new HashSet<uint>(changed);
        var grew = set.Count > 0;
        while (grew)
        {
            grew = false;
            foreach (var (referencing, referenced) in _foreignKeys)
            {
                if (set.Contains(referenced) && set.Add(referencing))
                    grew = true;
            }
        }
        return set;
    }

    private static async Task<IReadOnlyList<QueryResult>> RunAsync(EngineProcess engine, EngineSessionState state, IEnumerable<string> statements)
        => await QueryResults.RunAsync(engine, OwnSql.Append(EngineStateRestore.AppendEngineRole(new BatchBuffer(), state), statements), Timeout);

    private static List<long> Numbers(string? text) => [.. (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => long.Parse(n, CultureInfo.InvariantCulture))];

    private static RowSnapshot? NotTaken(ILogger logger, string why)
    {
        Log.NotTaken(logger, why);
        return null;
    }

    private static bool NotRestored(ILogger logger, string why)
    {
        Log.NotRestored(logger, why);
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "snapshot keeps no rows of its own ({Why}): each restore swaps engines")]
        public static partial void NotTaken(ILogger logger, string why);

        [LoggerMessage(Level = LogLevel.Information, Message = "rows not put back in place ({Why}): swapping engines")]
        public static partial void NotRestored(ILogger logger, string why);

        [LoggerMessage(Level = LogLevel.Debug, Message = "rows put back in place: {Tables} tables refilled ({Rows} rows)")]
        public static partial void Restored(ILogger logger, int tables, long rows);
    }
}
