using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Databases;

/// <summary>
/// Makes a cluster no engine of its own can make: a preparation engine (memory://, no client ever sees it) starts from a
/// tar (the snapshot cache's fresh cluster, or a dump of a database's cluster), opened on another database, runs the
/// statements (CREATE DATABASE ... OID ... STRATEGY FILE_COPY), and is dumped. PGlite serves one database of its cluster
/// per instance, chosen at start, so this is how <see cref="DatabaseSeeds"/> gets the placeholder database spare engines
/// open (once per machine) and copies of postgres and template1 (which must stay in their clusters).
/// Cost on a 2-core machine: one engine start (~1-3 s) + the statements + its shutdown writing the tar.
/// </summary>
internal sealed partial class DatabaseForge(ZeroPgOptions options, ILogger logger)
{
    private static readonly TimeSpan StatementTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Writes to <paramref name="seed"/> the cluster made by running <paramref name="statements"/> in an engine started from
    /// <paramref name="source"/> (null: the fresh snapshot) and opened on <paramref name="openOn"/>, as after a clean shutdown:
    /// the engine's shutdown writes it (the host's sleepTo control), after the shutdown checkpoint, which writes unlogged
    /// tables' buffers too. So engines started from it run no crash recovery, and a copy's unlogged tables keep their rows.
    /// </summary>
    public async Task ForgeAsync(EngineLauncher launcher, string? source, string openOn, IReadOnlyList<string> statements, string seed, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (engine, _) = await EngineProcess.StartAsync(launcher.Preparation(source, openOn), logger, options.EngineStartTimeout, cancellationToken);
        var started = clock.ElapsedMilliseconds;
        await using (engine)
        {
            try
            {
                foreach (var sql in statements)
                    await OwnSql.RunCheckedAsync(engine, sql, StatementTimeout);
            }
            catch (OwnSqlException error)
            {
                throw new Protocol.PgErrorException(Protocol.PgError.Error(error.SqlState.Length > 0 ? error.SqlState : Protocol.SqlState.InternalError,
                    error.Message, "ZeroPg prepares a new database's cluster in an engine of its own; this statement failed there."));
            }
            var ran = clock.ElapsedMilliseconds;
            await ShutDownIntoAsync(engine, seed);
            Log.Forged(logger, seed, started, ran - started, clock.ElapsedMilliseconds - ran);
        }
    }

    /// <summary>How long a preparation engine may take to shut down and write its tar.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Stops <paramref name="engine"/>, whose shutdown writes its cluster to <paramref name="path"/> (atomically: whole or absent).</summary>
    private static Task ShutDownIntoAsync(EngineProcess engine, string path) => WriteAtomicallyAsync(path, async temp =>
    {
        var answer = await engine.ControlAsync(new SleepControl(temp));
        if (answer.TryGetProperty("error", out var error))
            throw new EngineFailedException($"writing the engine's cluster at its shutdown was refused: {error}");
        engine.CloseTimeout = ShutdownTimeout;
        await engine.DisposeAsync();
        if (!DatabaseSeeds.IsWhole(temp))
            throw new EngineFailedException($"the preparation engine's shutdown did not write its cluster ({engine.Diagnostics()})");
    });

    /// <summary>
    /// A tar of the running engine's whole cluster (after a CHECKPOINT), written atomically. An engine started from it runs
    /// crash recovery, which empties unlogged tables.
    /// </summary>
    public static Task DumpAsync(EngineProcess engine, string path) => WriteAtomicallyAsync(path, async temp =>
    {
        var answer = await engine.ControlAsync(new DumpControl(temp));
        if (answer.TryGetProperty("error", out var error))
            throw new EngineFailedException($"dumping the engine's cluster failed: {error}");
    });

    /// <summary>
    /// <paramref name="write"/> writes a temporary file, which then becomes <paramref name="path"/>: whole or absent. A name of its
    /// own per write: servers of one process (two test classes' fixtures) may make the same seed at once, and one pid-named file
    /// was then renamed away under the other (FileNotFoundException, its CREATE DATABASE failed).
    /// </summary>
    private static async Task WriteAtomicallyAsync(string path, Func<string, Task> write)
    {
        var temp = $"{path}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp";
        try
        {
            await write(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // nothing when it was moved; a partial file otherwise
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "database cluster {Seed} prepared: engine start {Start} ms, statements {Statements} ms, shutdown writing it {Dump} ms")]
        public static partial void Forged(ILogger logger, string seed, long start, long statements, long dump);
    }
}
