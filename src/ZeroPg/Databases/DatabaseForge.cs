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
/// Cost on a 2-core machine: one engine start (~1-3 s) + the statements + a dump (~0.5-1 s).
/// </summary>
internal sealed partial class DatabaseForge(ZeroPgOptions options, ILogger logger)
{
    private static readonly TimeSpan StatementTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Writes to <paramref name="seed"/> the cluster made by running <paramref name="statements"/> in an engine started from <paramref name="source"/> (null: the fresh snapshot) and opened on <paramref name="openOn"/>.
    /// <paramref name="clean"/>: as after a clean shutdown (one more engine start, ~0.5 s), for a seed kept and started from many times.
    /// </summary>
    public async Task ForgeAsync(EngineLauncher launcher, string? source, string openOn, IReadOnlyList<string> statements, string seed, CancellationToken cancellationToken, bool clean = false)
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
            await DumpAsync(engine, seed, clean);
            Log.Forged(logger, seed, started, ran - started, clock.ElapsedMilliseconds - ran);
        }
    }

    /// <summary>
    /// A tar of the engine's whole cluster (after a CHECKPOINT), written atomically; <paramref name="clean"/>: as after a clean
    /// shutdown (the host starts the dump once more and shuts it down), so engines started from it skip crash recovery.
    /// </summary>
    public static async Task DumpAsync(EngineProcess engine, string path, bool clean = false)
    {
        // A name of its own per dump: servers of one process (two test classes' fixtures) may dump the same seed at once, and one
        // pid-named file was then renamed away under the other (FileNotFoundException, its CREATE DATABASE failed).
        var temp = $"{path}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp";
        try
        {
            var answer = await engine.ControlAsync(new DumpControl(temp, clean));
            if (answer.TryGetProperty("error", out var error))
                throw new EngineFailedException($"dumping the engine's cluster failed: {error}");
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // nothing when it was moved; a partial dump otherwise
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "database cluster {Seed} prepared: engine start {Start} ms, statements {Statements} ms, dump {Dump} ms")]
        public static partial void Forged(ILogger logger, string seed, long start, long statements, long dump);
    }
}
