using System.Collections.Concurrent;
using System.Text.Json;
using ZeroPg.Sessions;

namespace ZeroPg.Replication.Slots;

/// <summary>One slot as /metrics shows it: its lag in WAL bytes (since its confirmed position) and in seconds (the age of the
/// oldest captured change it has not confirmed), whether a walsender streams it, and whether it was invalidated.</summary>
internal sealed record SlotMetric(string Database, string Slot, bool Active, bool Lost, double LagBytes, double LagSeconds);

/// <summary>
/// Reads every running database's slots for a /metrics scrape (zeropg_repl.slot_metrics(), Slots/SlotFunctions): between
/// clients' units, holding the database's scheduler like a client (never inside a client's transaction), for a moment. A
/// database busy for longer than <see cref="Wait"/>, or an engine that fails, keeps the figures it had at the last scrape,
/// which the meter's gauges also read. Thread: the scraping request's; the cache is safe to read from any thread.
/// </summary>
internal sealed class SlotMetrics
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, IReadOnlyList<SlotMetric>> _last = new(StringComparer.Ordinal);

    /// <summary>The figures of the last scrape (the meter's gauges).</summary>
    public IReadOnlyList<SlotMetric> Last => [.. _last.Values.SelectMany(v => v)];

    /// <param name="idleOnly">Leave out (keeping their last figures) the databases whose engine a client holds: the dashboard's
    /// reads must not queue behind a client's transaction, where pg_stat_activity and the page would show them waiting.</param>
    public async Task<IReadOnlyList<SlotMetric>> ReadAsync(IReadOnlyList<SessionServices> databases, CancellationToken cancellationToken, bool idleOnly = false)
    {
        var running = databases.Select(d => d.DatabaseName).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _last.Keys.Where(k => !running.Contains(k)))
            _last.TryRemove(gone, out _);
        foreach (var database in databases)
        {
            if (idleOnly && database.Scheduler.Owner is not null)
                continue;
            if (await ReadAsync(database, cancellationToken) is { } slots)
                _last[database.DatabaseName] = slots;
        }
        return Last;
    }

    private static Task<IReadOnlyList<SlotMetric>?> ReadAsync(SessionServices database, CancellationToken cancellationToken)
        => BetweenUnits.ReadAsync<IReadOnlyList<SlotMetric>>(database, Wait, async engine =>
        {
            var installed = await OwnSql.QueryRowAsync(engine, "SELECT (pg_catalog.to_regprocedure('zeropg_repl.slot_metrics()') IS NOT NULL)::text", Wait);
            if (installed[0] != "true")
                return [];
            var json = (await OwnSql.QueryRowAsync(engine, "SELECT zeropg_repl.slot_metrics()::text", Wait))[0] ?? "[]";
            var active = database.ReplicationSlots.Active.Select(a => a.Slot).ToHashSet(StringComparer.Ordinal);
            using var document = JsonDocument.Parse(json);
            return [.. document.RootElement.EnumerateArray().Select(e =>
            {
                var slot = e.GetProperty("slot").GetString()!;
                return new SlotMetric(database.DatabaseName, slot, active.Contains(slot), e.GetProperty("lost").GetBoolean(),
                    e.GetProperty("bytes").GetDouble(), e.GetProperty("seconds").GetDouble());
            })];
        }, cancellationToken);
}
