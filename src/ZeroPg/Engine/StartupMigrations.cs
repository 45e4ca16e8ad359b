using Microsoft.Extensions.Logging;
using ZeroPg.Compatibility;
using ZeroPg.Migrations;

namespace ZeroPg.Engine;

/// <summary>
/// --migrations and --extensions auto: what runs on a new engine before any client gets it. The engine's
/// start task completes only after the last migration, so clients that connect meanwhile wait for it,
/// /readyz answers 503 and the ready line is not printed yet.
/// </summary>
internal static partial class StartupMigrations
{
    /// <summary>The extensions to preload: as given, with "auto" replaced by what `zeropg check` finds in the migration folders (else the current directory).</summary>
    public static IReadOnlyList<string> ResolveExtensions(ZeroPgOptions options, string engineHostScript, ILogger logger)
    {
        var given = options.Extensions.Distinct(StringComparer.Ordinal).ToList();
        if (!given.Remove(ZeroPgOptions.AutoExtensions))
            return given;
        var scanned = options.MigrationFolders.Count > 0 ? options.MigrationFolders : [Directory.GetCurrentDirectory()];
        var reports = scanned.Select(folder => ProjectScanner.Scan(folder, engineHostScript)).ToList();
        var missing = reports.SelectMany(r => r.Extensions).Where(e => e.Status == ExtensionStatus.NotAvailable).ToList();
        if (missing.Count > 0)
        {
            var evidence = missing.SelectMany(e => e.Evidence.Take(1).Select(v => $"{e.Name} ({v.File}:{v.Line})"));
            throw new InvalidOperationException($"--extensions auto: the migrations need extensions PGlite does not ship: {string.Join(", ", evidence)}. " +
                "Such an app must run on native PostgreSQL (`zeropg check` lists what an app needs).");
        }
        var found = reports.SelectMany(r => r.AvailableExtensionNames).Distinct(StringComparer.Ordinal).ToList();
        Log.AutoExtensions(logger, found.Count == 0 ? "none" : string.Join(", ", found));
        return [.. given.Concat(found).Distinct(StringComparer.Ordinal)];
    }

    public static async Task ApplyAsync(EngineProcess engine, ExtensionLoader? extensions, IReadOnlyList<MigrationFolder> folders, ILogger logger, CancellationToken cancellationToken)
    {
        var session = new EngineMigrationSession(engine, extensions!);
        try
        {
            await new MigrationRunner(session, logger).ApplyAsync(folders, cancellationToken);
        }
        finally
        {
            if (!engine.IsFailed)
                await session.ResetAsync(cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "--extensions auto: {Names}")]
        public static partial void AutoExtensions(ILogger logger, string names);
    }
}
