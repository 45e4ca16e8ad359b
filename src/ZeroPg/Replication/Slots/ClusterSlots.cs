using System.Text.Json.Nodes;
using ZeroPg.Databases;
using ZeroPg.Engine;
using ZeroPg.Sessions;
using ZeroPg.Sql;

namespace ZeroPg.Replication.Slots;

/// <summary>
/// The server's slots as Postgres's cluster-wide ones: each database keeps its own in its engine (zeropg_repl.slots), so
/// ZeroPg keeps every database's rows of pg_replication_slots as last read, to list them from the others
/// (<see cref="OtherRows"/>) and to give each engine the names taken elsewhere (<see cref="OthersSettingSql"/>: 42710, and
/// max_replication_slots counted over the server). Fresh enough: a database's rows are stored when ZeroPg creates, drops or
/// uses one of its slots (before the reply), read again from every running engine before a client's unit that uses slots
/// (<see cref="RefreshAsync"/>), and kept in a file for a stopped engine (<see cref="SlotRowsFile"/>). Whether a walsender
/// streams a slot now comes from its database's <see cref="SlotActivity"/>, never from the stored rows.
/// Creations are one at a time over the server (<see cref="CreatingAsync"/>), so two databases cannot both take a name.
/// Thread: any; <see cref="_gate"/> owns the rows and reservations.
/// </summary>
internal sealed class ClusterSlots(Func<IReadOnlyList<DatabaseEntry>> entries)
{
    /// <summary>The engine's own slots as a JSON array of pg_replication_slots rows (with no walsender streaming: that is overlaid).</summary>
    public const string OwnRowsSql = "SELECT CASE WHEN pg_catalog.to_regprocedure('zeropg_repl.replication_slots(jsonb)') IS NULL THEN '[]'"
        + " ELSE (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(r)), '[]')::pg_catalog.text FROM zeropg_repl.replication_slots('{}'::pg_catalog.jsonb) r) END";

    /// <summary>pg_replication_slots' columns as zeropg_repl.replication_slots returns them (Slots/SlotFunctions).</summary>
    public const string ColumnTypes = "slot_name pg_catalog.name, plugin pg_catalog.name, slot_type pg_catalog.text, datoid pg_catalog.oid, database pg_catalog.name, temporary pg_catalog.bool, active pg_catalog.bool,"
        + " active_pid pg_catalog.int4, xmin pg_catalog.xid, catalog_xmin pg_catalog.xid, restart_lsn pg_catalog.pg_lsn, confirmed_flush_lsn pg_catalog.pg_lsn, wal_status pg_catalog.text,"
        + " safe_wal_size pg_catalog.int8, two_phase pg_catalog.bool, two_phase_at pg_catalog.pg_lsn, inactive_since pg_catalog.timestamptz, conflicting pg_catalog.bool,"
        + " invalidation_reason pg_catalog.text, failover pg_catalog.bool, synced pg_catalog.bool";

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    /// <summary>By the database's oid as the others see it: it stays with a renamed database, and a database made again under a dropped one's name has a new one.</summary>
    private readonly Dictionary<uint, JsonArray> _rows = [];
    private readonly List<(string Database, string Slot)> _reserved = [];
    private readonly SemaphoreSlim _creating = new(1, 1);

    private IEnumerable<DatabaseEntry> Others(string current) => entries().Where(e => e.Name != current);

    /// <summary>
    /// Reads the slots of every running database but <paramref name="current"/> between their clients' units (a database busy for
    /// longer than <see cref="Wait"/> keeps its rows as last read), and a stopped one's file when none are known yet.
    /// </summary>
    public async Task RefreshAsync(string current, CancellationToken cancellationToken)
    {
        await Task.WhenAll(Others(current).Select(async entry =>
        {
            if (entry.RunningServices is { } services
                && await BetweenUnits.ReadAsync(services, Wait, async engine => await OwnSql.QueryRowAsync(engine, OwnRowsSql, Wait), cancellationToken) is [{ } json])
                Store(entry.Name, json);
        }));
    }

    /// <summary>
    /// Reads <paramref name="database"/>'s slots in its engine (the caller holds its scheduler) before that engine stops, so that
    /// other databases' clients see them while it does not run (memory:// keeps them here only).
    /// </summary>
    public async Task ReadBeforeStopAsync(string database, EngineProcess engine)
    {
        try
        {
            if (await OwnSql.QueryRowAsync(engine, OwnRowsSql, Wait) is [{ } json])
                Store(database, json);
        }
        catch (OwnSqlException error) when (error.SqlState is "3F000" or "42883")
        {
            Store(database, "[]"); // no zeropg_repl.replication_slots: no slot was ever made in this database
        }
    }

    /// <summary>The result of <see cref="OwnRowsSql"/> run by a session of <paramref name="database"/>: stored when it holds the rows.</summary>
    public void Store(string database, IReadOnlyList<string?[]> ownRows)
    {
        if (ownRows is [[{ } json]])
            Store(database, json);
    }

    /// <summary>The database's rows as its engine gave them (<see cref="OwnRowsSql"/>), kept on disk when they changed.</summary>
    public void Store(string database, string json)
    {
        if (entries().FirstOrDefault(e => e.Name == database) is not { Site: var site } entry || JsonNode.Parse(json) is not JsonArray rows)
            return;
        lock (_gate)
        {
            if (_rows.TryGetValue(entry.Oid, out var known) && JsonNode.DeepEquals(known, rows))
                return;
            _rows[entry.Oid] = rows;
            if (!site.IsMemory)
                SlotRowsFile.Write(site.DataDirectory, rows);
        }
    }

    /// <summary>The rows of <paramref name="entry"/>'s slots as last known: read from its file when not read since the server started.</summary>
    private JsonArray RowsOf(DatabaseEntry entry)
    {
        lock (_gate)
        {
            if (!_rows.TryGetValue(entry.Oid, out var rows))
                _rows[entry.Oid] = rows = (entry.Site.IsMemory ? null : SlotRowsFile.Read(entry.Site.DataDirectory)) ?? [];
            return rows;
        }
    }

    /// <summary>
    /// The other databases' slots as pg_replication_slots rows (a JSON array for jsonb_to_recordset with <see cref="ColumnTypes"/>),
    /// each under its database's name and the oid pg_database shows it under here; empty when there are none.
    /// </summary>
    public string OtherRows(string current)
    {
        var all = new JsonArray();
        foreach (var entry in Others(current).OrderBy(e => e.Oid))
        {
            var activity = entry.RunningServices?.ReplicationSlots;
            foreach (var row in RowsOf(entry).OfType<JsonObject>())
            {
                var copy = (JsonObject)row.DeepClone();
                copy["datoid"] = entry.Oid;
                copy["database"] = entry.Name;
                if (activity?.Holder(copy["slot_name"]?.GetValue<string>() ?? "") is { } walsender)
                {
                    copy["active"] = true;
                    copy["active_pid"] = walsender;
                    copy["inactive_since"] = null;
                }
                all.Add((JsonNode)copy); // the untyped Add: Add<T> of a JsonObject needs reflection
            }
        }
        return all.Count == 0 ? "" : all.ToJsonString();
    }

    /// <summary>
    /// Sets zeropg.other_slots in the engine of <paramref name="current"/>: {"slot": "database"} of the slots the other databases
    /// have or are making (Slots/SlotFunctions' slot_limit and acquire_slot read it).
    /// </summary>
    public string OthersSettingSql(string current)
    {
        var others = new JsonObject();
        foreach (var entry in Others(current))
        {
            foreach (var row in RowsOf(entry).OfType<JsonObject>())
                others[row["slot_name"]?.GetValue<string>() ?? ""] = entry.Name;
        }
        lock (_gate)
        {
            foreach (var (database, slot) in _reserved.Where(r => r.Database != current))
                others[slot] = database;
        }
        return "SELECT pg_catalog.set_config('zeropg.other_slots', " + SqlEdit.Literal(others.ToJsonString()) + ", false)";
    }

    /// <summary>One creation at a time over the server: from reading the names taken elsewhere to storing the new slot's row.</summary>
    public async Task<IDisposable> CreatingAsync(CancellationToken cancellationToken)
    {
        await _creating.WaitAsync(cancellationToken);
        return new Creation(_creating);
    }

    /// <summary>
    /// Holds <paramref name="slot"/> for <paramref name="database"/> while a walsender makes it outside <see cref="CreatingAsync"/>
    /// (it must not wait for its engine inside it: a client of that engine may be waiting for it); until the returned handle goes.
    /// </summary>
    public IDisposable Reserve(string database, string slot)
    {
        lock (_gate)
            _reserved.Add((database, slot));
        return new Reservation(this, database, slot);
    }

    private sealed class Creation(SemaphoreSlim creating) : IDisposable
    {
        public void Dispose() => creating.Release();
    }

    private sealed class Reservation(ClusterSlots owner, string database, string slot) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
                owner._reserved.Remove((database, slot));
        }
    }
}
