using ZeroPg.Cli.Scripts;
using ZeroPg.Engine;

namespace ZeroPg.Cli.Graduation;

internal sealed record RestoreRequest
{
    /// <summary>The data directory, new or existing.</summary>
    public required string Directory { get; init; }
    /// <summary>The script; "-" for standard input.</summary>
    public required string File { get; init; }
    public bool SingleTransaction { get; init; } = true;
    public bool NoOwner { get; init; }
    public bool NoPrivileges { get; init; }
    public bool CreateMissingRoles { get; init; } = true;
}

/// <summary>
/// `zeropg restore`: a plain pg_dump file into a new or existing data directory, through a private
/// server on the directory (which takes its lock), in one transaction by default. A directory the
/// restore created is removed again when it fails, so it is never left half restored.
/// </summary>
internal static class Restorer
{
    public static async Task<ScriptRunSummary> RunAsync(RestoreRequest request, ProgressLog log, CancellationToken cancellationToken)
    {
        using var file = await ScriptFile.OpenAsync(request.File, cancellationToken);
        if (file.IsPgDump && !file.IsComplete)
            throw new GraduationException($"{file.DisplayName} is a pg_dump file without its final \"dump complete\" line: it is truncated. Nothing was restored.");

        var directory = Path.GetFullPath(request.Directory);
        var existed = System.IO.Directory.Exists(directory);
        var isNew = !existed || !System.IO.Directory.EnumerateFileSystemEntries(directory).Any();
        if (!isNew && !File.Exists(Path.Combine(directory, "PG_VERSION")))
            throw new GraduationException($"{directory} is neither empty nor a data directory (no PG_VERSION): not touching it.");

        var extensions = file.Extensions.Where(e => e.Name != "plpgsql").ToList();
        CheckExtensions(extensions);
        log.Progress($"restoring {file.DisplayName} ({ProgressLog.Size(file.Length)}) into {(isNew ? "new" : "existing")} data directory {directory}" +
            (request.SingleTransaction ? ", in one transaction" : ""));

        try
        {
            using var loggers = log.ServerLogs();
            await using var endpoint = await DatabaseEndpoint.ServeAsync(directory, [.. extensions.Select(e => e.Name).Distinct()], loggers, cancellationToken);
            await using var connection = endpoint.CreateConnection("zeropg restore");
            await Dumper.OpenAsync(connection, endpoint, cancellationToken);
            using var reader = file.OpenReader(out var stream);
            var runner = new ScriptRunner(connection, new ScriptRunOptions
            {
                SingleTransaction = request.SingleTransaction,
                NoOwner = request.NoOwner,
                NoPrivileges = request.NoPrivileges,
                SingleDatabase = true,
                CreateMissingRoles = request.CreateMissingRoles,
            }, log)
            {
                RequireTerminatedStatements = file.IsPgDump,
                Position = () => $"{100.0 * stream.Position / Math.Max(1, file.Length):0}%",
            };
            var summary = await runner.RunAsync(new ScriptReader(reader), cancellationToken);
            log.Progress($"done: {summary.Statements:N0} statements, {summary.Rows:N0} rows in {summary.CopyBlocks} COPY blocks" +
                (summary.Skipped > 0 ? $", {summary.Skipped} statements skipped" : ""));
            return summary;
        }
        catch when (isNew)
        {
            RemoveNewDirectory(directory, existed);
            log.Progress($"removed {directory}: it was new and the restore did not complete");
            throw;
        }
    }

    private static void CheckExtensions(List<(string Name, int Line)> extensions)
    {
        var available = ExtensionCatalog.Available(EngineHostLocator.Locate(null));
        var missing = extensions.Where(e => !available.Contains(e.Name.Replace('-', '_'), StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
        {
            throw new GraduationException(
                $"line {missing[0].Line}: the script creates extension{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => m.Name).Distinct())}, which PGlite does not bundle. Nothing was restored.",
                $"PGlite has: {string.Join(", ", available)}.");
        }
    }

    private static void RemoveNewDirectory(string directory, bool existed)
    {
        try
        {
            if (!existed)
            {
                System.IO.Directory.Delete(directory, recursive: true);
                return;
            }
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                if (entry is DirectoryInfo sub)
                    sub.Delete(recursive: true);
                else
                    entry.Delete();
            }
        }
        catch (IOException)
        {
        }
    }
}
