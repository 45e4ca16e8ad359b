using Microsoft.Extensions.Logging;

namespace ZeroPg.Storage;

/// <summary>
/// Keeps the snapshot cache from growing forever: every PGlite upgrade or new extension set leaves a
/// ~40 MB tar behind. Deletes snapshots unused for <see cref="MaxUnused"/>, the least recently used
/// beyond <see cref="MaxFiles"/>, and temp files of writers that died before their rename. Other
/// processes may be using or pruning the same directory, so nothing here throws: a file that cannot
/// be deleted stays for next time.
/// </summary>
internal static partial class SnapshotCachePruner
{
    public const int MaxFiles = 8;
    public static readonly TimeSpan MaxUnused = TimeSpan.FromDays(30);

    // Writing a snapshot takes about a second; a temp file this old belongs to a writer that crashed.
    public static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);

    // Another process touches a snapshot when it picks it and its engine opens it moments later, so a
    // recently used one is not deleted to enforce the cap: with more configurations in use at once than
    // MaxFiles, processes would otherwise keep deleting each other's snapshots and run initdb every time.
    public static readonly TimeSpan RecentUse = TimeSpan.FromMinutes(10);

    private const string Prefix = "pglite-";

    /// <param name="inUse">The snapshot this process uses (or tried to write); it is never deleted.</param>
    public static void Prune(string directory, string inUse, DateTime nowUtc, ILogger logger)
    {
        try
        {
            var keep = Path.GetFileName(inUse);
            var snapshots = new List<FileInfo>();
            foreach (var file in new DirectoryInfo(directory).GetFiles(Prefix + "*"))
            {
                if (IsTemp(file.Name))
                {
                    if (nowUtc - file.LastWriteTimeUtc > StaleTempAge)
                        Delete(file, "a temp file left by a writer that stopped", logger);
                }
                else if (file.Name.EndsWith(".tar", StringComparison.Ordinal) && file.Name != keep)
                {
                    snapshots.Add(file);
                }
            }

            // The snapshot in use takes one of the MaxFiles places whether or not it exists yet.
            var kept = 1;
            foreach (var file in snapshots.OrderByDescending(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal))
            {
                var unused = nowUtc - file.LastWriteTimeUtc;
                if (unused > MaxUnused)
                    Delete(file, $"unused for more than {MaxUnused.TotalDays:0} days", logger);
                else if (kept >= MaxFiles && unused > RecentUse)
                    Delete(file, $"more than {MaxFiles} snapshots cached and this one used least recently", logger);
                else
                    kept++;
            }
        }
        catch (Exception error)
        {
            // The start must go on whatever went wrong here; the cache is only an optimisation.
            Log.PruneFailed(logger, directory, error.Message);
        }
    }

    // host.mjs writes "<snapshot>.<pid>.tmp" and renames it into place.
    private static bool IsTemp(string name)
        => name.EndsWith(".tmp", StringComparison.Ordinal) && name.Contains(".tar.", StringComparison.Ordinal);

    private static void Delete(FileInfo file, string reason, ILogger logger)
    {
        var seen = file.LastWriteTimeUtc;
        try
        {
            // Another process may have picked this file since it was listed; then it is in use, not stale.
            file.Refresh();
            if (!file.Exists || file.LastWriteTimeUtc != seen)
                return;
            file.Delete();
            Log.Deleted(logger, file.FullName, reason);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // Open elsewhere (Windows), already gone, or not ours: try again on a later start.
            Log.DeleteFailed(logger, file.FullName, error.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "snapshot cache: deleted {Path} ({Reason})")]
        public static partial void Deleted(ILogger logger, string path, string reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "snapshot cache: could not delete {Path}: {Message}")]
        public static partial void DeleteFailed(ILogger logger, string path, string message);

        [LoggerMessage(Level = LogLevel.Warning, Message = "snapshot cache: pruning {Directory} failed, continuing without it: {Message}")]
        public static partial void PruneFailed(ILogger logger, string directory, string message);
    }
}
