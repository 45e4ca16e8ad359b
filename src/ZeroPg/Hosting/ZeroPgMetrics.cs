using System.Diagnostics.Metrics;

namespace ZeroPg.Hosting;

/// <summary>
/// The server's metrics, published as System.Diagnostics.Metrics instruments on the "ZeroPg" meter
/// (so any .NET exporter can pick them up) and read directly by the /metrics endpoint. Sessions call
/// the Record* methods; the gauges read live state through the callbacks the server sets.
/// </summary>
public sealed class ZeroPgMetrics : IDisposable
{
    public const string MeterName = "ZeroPg";

    private readonly Meter _meter = new(MeterName);
    private long _batches;
    private long _batchBytes;
    private long _queueWaits;
    private long _longEngineHolds;
    private long _sessionRestoreFailures;
    private long _queueWaitMicroseconds;
    private long _connectionsAccepted;
    private long _startupTimeouts;
    private long _pipelinedUnits;
    private long _autoPreparedRuns;
    private long _statements;
    private long _statementMicroseconds;
    private readonly long[] _unhonouredCancels = new long[2 * 4]; // [killed ? 1 : 0][reason 1..3], Interlocked

    public ZeroPgMetrics()
    {
        _meter.CreateObservableCounter("zeropg.engine.batches", () => Batches, description: "batches of protocol messages run by the engine");
        _meter.CreateObservableCounter("zeropg.engine.batch_bytes", () => BatchBytes, unit: "By", description: "bytes of protocol messages sent to the engine");
        _meter.CreateObservableCounter("zeropg.queue.waits", () => QueueWaits, description: "times a client had to wait for the shared engine");
        _meter.CreateObservableCounter("zeropg.queue.wait_time", () => QueueWaitSeconds, unit: "s", description: "time clients spent waiting for the shared engine");
        _meter.CreateObservableCounter("zeropg.engine.auto_prepared_runs", () => AutoPreparedRuns, description: "simple Queries run through a statement ZeroPg prepared on its own");
        _meter.CreateObservableCounter("zeropg.engine.pipelined_units", () => PipelinedUnits, description: "units that handed the engine on as soon as they were sent, so the next client's unit queued behind them");
        _meter.CreateObservableCounter("zeropg.statements", () => Statements, description: "clients' units of work (a statement, or a pipeline up to its Sync) that ended");
        _meter.CreateObservableCounter("zeropg.statements.time", () => StatementSeconds, unit: "s", description: "time clients' units of work took, queueing for the engine included");
        _meter.CreateObservableCounter("zeropg.connections.accepted", () => ConnectionsAccepted, description: "client connections accepted");
        _meter.CreateObservableCounter("zeropg.connections.startup_timeouts", () => StartupTimeouts, description: "connections closed for not completing their startup in time");
        _meter.CreateObservableUpDownCounter("zeropg.connections", () => (long)OpenConnections(), description: "client connections open");
        _meter.CreateObservableUpDownCounter("zeropg.queue.length", () => (long)QueuedBatches(), description: "clients waiting for the shared engine");
        _meter.CreateObservableCounter("zeropg.engine.restarts", () => (long)EngineRestarts(), description: "engine processes replaced after dying");
        _meter.CreateObservableGauge("zeropg.engine.rss", () => EngineRssBytes() ?? 0, unit: "By", description: "resident memory of the engine host process");
        _meter.CreateObservableGauge("zeropg.backup.lag", () => BackupStatus()?.LagSeconds ?? 0, unit: "s", description: "age of the oldest WAL not yet in the backup");
        _meter.CreateObservableGauge("zeropg.backup.lag_bytes", () => BackupStatus()?.LagBytes ?? 0, unit: "By", description: "WAL on disk not yet in the backup");
        _meter.CreateObservableCounter("zeropg.backup.uploaded_bytes", () => BackupStatus()?.UploadedBytes ?? 0, unit: "By", description: "bytes uploaded to the backup (WAL objects and base backups)");
        _meter.CreateObservableCounter("zeropg.backup.upload_failures", () => BackupStatus()?.UploadFailures ?? 0, description: "WAL uploads that failed (and were retried)");
        // Replication slots, as the last /metrics scrape read them (reading them needs the engine: see Replication/Slots/SlotMetrics).
        _meter.CreateObservableGauge("zeropg.replication.slots", () => (long)LastReplicationSlots().Count, description: "logical replication slots");
        _meter.CreateObservableGauge("zeropg.replication.slot.lag_bytes", () => SlotMeasurements(s => s.LagBytes), unit: "By",
            description: "WAL written since the slot's confirmed position");
        _meter.CreateObservableGauge("zeropg.replication.slot.lag", () => SlotMeasurements(s => s.LagSeconds), unit: "s",
            description: "age of the oldest captured change the slot has not confirmed");
    }

    private IEnumerable<Measurement<double>> SlotMeasurements(Func<Replication.Slots.SlotMetric, double> value)
        => LastReplicationSlots().Select(s => new Measurement<double>(value(s), new KeyValuePair<string, object?>("database", s.Database),
            new KeyValuePair<string, object?>("slot", s.Slot)));

    public long Batches => Interlocked.Read(ref _batches);
    public long BatchBytes => Interlocked.Read(ref _batchBytes);
    public long QueueWaits => Interlocked.Read(ref _queueWaits);
    public long LongEngineHolds => Interlocked.Read(ref _longEngineHolds);

    /// <summary>Times the statements restoring a client's session state in the shared engine failed there (each logged; the unit ran again).</summary>
    public long SessionRestoreFailures => Interlocked.Read(ref _sessionRestoreFailures);
    public double QueueWaitSeconds => Interlocked.Read(ref _queueWaitMicroseconds) / 1e6;
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);
    public long StartupTimeouts => Interlocked.Read(ref _startupTimeouts);
    public long PipelinedUnits => Interlocked.Read(ref _pipelinedUnits);
    public long AutoPreparedRuns => Interlocked.Read(ref _autoPreparedRuns);

    /// <summary>Clients' units of work that ended (ZeroPg's own engine work not included: an idle server stays at its count).</summary>
    public long Statements => Interlocked.Read(ref _statements);

    /// <summary>The time those units took, from their start (queueing for the engine included) to their end.</summary>
    public double StatementSeconds => Interlocked.Read(ref _statementMicroseconds) / 1e6;

    internal Func<int> OpenConnections { get; set; } = () => 0;
    internal Func<int> QueuedBatches { get; set; } = () => 0;
    internal Func<int> EngineRestarts { get; set; } = () => 0;
    internal Func<long?> EngineRssBytes { get; set; } = () => null;
    /// <summary>The backend pool's state with --pool (null: no pool).</summary>
    internal Func<Engine.Pooled.PoolCounts?> Pool { get; set; } = () => null;
    internal Func<IReadOnlyList<DatabaseEngineMetric>> DatabaseEngines { get; set; } = () => [];
    internal Func<SpareEngineMetric?> SpareEngine { get; set; } = () => null;
    internal Func<Storage.Backup.BackupStatus?> BackupStatus { get; set; } = () => null;

    /// <summary>Reads every database's replication slots now (for /metrics).</summary>
    internal Func<CancellationToken, Task<IReadOnlyList<Replication.Slots.SlotMetric>>> ReplicationSlots { get; set; } = _ => Task.FromResult<IReadOnlyList<Replication.Slots.SlotMetric>>([]);

    /// <summary>Reads the slots of the databases whose engine no client holds now; the others keep their last figures (the dashboard's).</summary>
    internal Func<CancellationToken, Task> RefreshIdleReplicationSlots { get; set; } = _ => Task.CompletedTask;

    /// <summary>The slots as last read.</summary>
    internal Func<IReadOnlyList<Replication.Slots.SlotMetric>> LastReplicationSlots { get; set; } = () => [];

    /// <summary>A batch of <paramref name="bytes"/> protocol bytes was handed to the engine.</summary>
    public void RecordBatch(long bytes)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _batchBytes, bytes);
    }

    /// <summary>Bytes of a batch sent ahead in parts (a large COPY).</summary>
    public void AddBatchBytes(long bytes) => Interlocked.Add(ref _batchBytes, bytes);

    /// <summary>A client waited <paramref name="wait"/> for the engine to become free.</summary>
    public void RecordLongEngineHold() => Interlocked.Increment(ref _longEngineHolds);

    public void RecordSessionRestoreFailure() => Interlocked.Increment(ref _sessionRestoreFailures);

    public void RecordQueueWait(TimeSpan wait)
    {
        Interlocked.Increment(ref _queueWaits);
        Interlocked.Add(ref _queueWaitMicroseconds, (long)(wait.Ticks / 10));
    }

    /// <summary>A client's unit of work ended after <paramref name="took"/>.</summary>
    public void RecordStatement(TimeSpan took)
    {
        Interlocked.Add(ref _statementMicroseconds, Math.Max(0, took.Ticks / 10));
        Interlocked.Increment(ref _statements);
    }

    /// <summary>
    /// A batch ran on past its cancel for the bound (<see cref="ZeroPgOptions.CancelRestartAfter"/>): the engine was killed
    /// to stop it (<paramref name="killed"/>), or, on memory://, it was waited for.
    /// </summary>
    internal void RecordUnhonouredCancel(Engine.EngineCancelReason reason, bool killed)
        => Interlocked.Increment(ref _unhonouredCancels[(killed ? 4 : 0) + Math.Clamp((int)reason, 0, 3)]);

    /// <summary>Cancels not honoured in time, by why the batch was cancelled and what was done (killed, or waited for).</summary>
    public IEnumerable<(string Reason, string Action, long Count)> UnhonouredCancels()
    {
        foreach (var killed in new[] { true, false })
        {
            foreach (var reason in new[] { Engine.EngineCancelReason.User, Engine.EngineCancelReason.StatementTimeout, Engine.EngineCancelReason.LockTimeout })
                yield return (ReasonLabel(reason), killed ? "killed" : "waited", Interlocked.Read(ref _unhonouredCancels[(killed ? 4 : 0) + (int)reason]));
        }
    }

    private static string ReasonLabel(Engine.EngineCancelReason reason) => reason switch
    {
        Engine.EngineCancelReason.StatementTimeout => "statement_timeout",
        Engine.EngineCancelReason.LockTimeout => "lock_timeout",
        _ => "user",
    };

    public void RecordPipelinedUnit() => Interlocked.Increment(ref _pipelinedUnits);
    public void RecordAutoPreparedRun() => Interlocked.Increment(ref _autoPreparedRuns);

    public void RecordConnectionAccepted() => Interlocked.Increment(ref _connectionsAccepted);
    public void RecordStartupTimeout() => Interlocked.Increment(ref _startupTimeouts);

    /// <summary>
    /// Zeroes the counters a client's work moves: the start's warm-up (<see cref="Server.StartWarmUp"/>) runs before the ready
    /// line and is no client's, so /metrics starts from nothing as it did without it.
    /// </summary>
    internal void ResetClientCounters()
    {
        Interlocked.Exchange(ref _batches, 0);
        Interlocked.Exchange(ref _batchBytes, 0);
        Interlocked.Exchange(ref _queueWaits, 0);
        Interlocked.Exchange(ref _longEngineHolds, 0);
        Interlocked.Exchange(ref _sessionRestoreFailures, 0);
        Interlocked.Exchange(ref _queueWaitMicroseconds, 0);
        Interlocked.Exchange(ref _connectionsAccepted, 0);
        Interlocked.Exchange(ref _startupTimeouts, 0);
        Interlocked.Exchange(ref _pipelinedUnits, 0);
        Interlocked.Exchange(ref _autoPreparedRuns, 0);
        Interlocked.Exchange(ref _statements, 0);
        Interlocked.Exchange(ref _statementMicroseconds, 0);
    }

    public void Dispose() => _meter.Dispose();
}
