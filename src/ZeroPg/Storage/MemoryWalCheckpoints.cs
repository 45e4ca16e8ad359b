using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Storage;

/// <summary>
/// memory:// keeps the WAL in the engine host's RAM, and PGlite's single-user Postgres never checkpoints by WAL volume
/// (XLogWrite asks for one only under a postmaster): every write stayed in memory until the server stopped (pgbench -i
/// -s 30: 384 MB of WAL; a TPC-B load, all of it). So ZeroPg asks for a checkpoint once the WAL since the last passes
/// max_wal_size (32 MB on memory://, EngineLauncher), as Postgres's checkpointer would: between the pieces of a COPY
/// (CopyLoad, inside the client's transaction) and, here, once a second for each engine nobody holds or waits for (or,
/// under a steady load, in the queue like a client every <see cref="MissesBeforeQueueing"/> seconds). An engine that ran no batch
/// since this loop's last check wrote no WAL: it is not asked. (It was, every second: an idle memory:// server was never quiet
/// for the engine host, whose trim after a quiet stretch, engine-host/pool.mjs, then never came.)
/// A checkpoint removes the segments before it; the first change of a page after it writes the whole page to the WAL
/// (data checksums are on), and the next checkpoint removes that too.
/// Thread: its own loop; it holds an engine only through the scheduler, as a client's unit does.
/// </summary>
internal sealed partial class MemoryWalCheckpoints : IAsyncDisposable
{
    /// <summary>
    /// The checkpoint when due, for a role with pg_checkpoint's privileges only (superusers: pgbench, psql, restores), and
    /// never an error: inside a client's transaction one would abort it. Another role's COPY waits for this loop's next round.
    /// </summary>
    public const string Sql = """
        DO $$BEGIN
        IF pg_catalog.pg_has_role('pg_checkpoint', 'USAGE') THEN
            IF pg_catalog.pg_current_wal_insert_lsn() - (SELECT redo_lsn FROM pg_catalog.pg_control_checkpoint())
                    > pg_catalog.pg_size_bytes(pg_catalog.current_setting('max_wal_size')) THEN
                EXECUTE 'CHECKPOINT';
            END IF;
        END IF;
        END$$
        """;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Under a steady load the engine is never free with nobody waiting (8 pgbench TPC-B clients for 150 s: the WAL grew
    /// past 42 MB): after this many rounds without that moment the check queues for the engine as a client would, and
    /// gives up its place after <see cref="QueueWait"/> (a client's transaction may hold the engine that long).
    /// </summary>
    private const int MissesBeforeQueueing = 10;
    private static readonly TimeSpan QueueWait = TimeSpan.FromSeconds(5);

    private readonly ConditionalWeakTable<SessionServices, StrongBox<int>> _missed = [];

    /// <summary>Per database: the engine last checked and its batch count after that check (<see cref="EngineProcess.BatchesSent"/>).</summary>
    private readonly ConditionalWeakTable<SessionServices, StrongBox<(EngineProcess? Engine, long Batches)>> _checked = [];

    private readonly Func<IReadOnlyList<SessionServices>> _engines;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private MemoryWalCheckpoints(Func<IReadOnlyList<SessionServices>> engines, ILogger logger)
    {
        _engines = engines;
        _logger = logger;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Starts the loop over the running <paramref name="engines"/> of a memory:// server of PGlite engines; null otherwise.</summary>
    public static MemoryWalCheckpoints? Start(ZeroPgOptions options, Func<IReadOnlyList<SessionServices>> engines, ILogger logger)
        => options.IsMemory && options.Engine == EngineKind.Pglite ? new MemoryWalCheckpoints(engines, logger) : null;

    /// <summary>Whether a COPY's pieces on this engine are followed by <see cref="Sql"/>.</summary>
    public static bool Apply(SessionServices services) => services.Options.Engine == EngineKind.Pglite && services.Engine.Site.IsMemory;

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                foreach (var services in _engines())
                    await CheckpointIfDueAsync(services);
            }
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    /// <summary>Runs <see cref="Sql"/> as the engine's own role when the engine is free; a client that asks meanwhile waits one call.</summary>
    private async Task CheckpointIfDueAsync(SessionServices services)
    {
        var last = _checked.GetOrCreateValue(services);
        if (services.Engine.Running is { } running && ReferenceEquals(last.Value.Engine, running) && running.BatchesSent == last.Value.Batches)
            return; // nothing ran since the last check
        if (!await TakeAsync(services))
            return;
        try
        {
            var engine = await services.Engine.GetAsync().WaitAsync(CallTimeout, _stop.Token);
            // Nobody holds the engine, so no transaction is open in it; the client's identity may still be in force.
            var batch = OwnSql.Append(EngineStateRestore.AppendEngineRole(new BatchBuffer(), services.EngineState), Sql);
            var call = new DiscardCall();
            await engine.SubmitAsync(call, batch.Frame(HostRequestKind.OwnBatch));
            await call.Completion.WaitAsync(CallTimeout, _stop.Token);
            last.Value = (engine, call.Sequence); // this check's own batch; nobody else's ran meanwhile, it held the engine
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Log.Failed(_logger, services.DatabaseName, error.Message); // the engine died, is stuck or stopping: its supervisor deals with it
        }
        finally
        {
            services.Scheduler.Release(this);
        }
    }

    private async Task<bool> TakeAsync(SessionServices services)
    {
        var missed = _missed.GetOrCreateValue(services);
        if (services.Scheduler.TryAcquire(this))
        {
            missed.Value = 0;
            return true;
        }
        if (++missed.Value < MissesBeforeQueueing)
            return false;
        missed.Value = 0;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        wait.CancelAfter(QueueWait);
        try
        {
            await services.Scheduler.AcquireAsync(this, wait.Token);
            return true;
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "database {Database}: WAL checkpoint check failed: {Message}")]
        public static partial void Failed(ILogger logger, string database, string message);
    }
}
