namespace ZeroPg.Migrations;

/// <summary>
/// The Postgres image's /docker-entrypoint-initdb.d for ZeroPg (<c>--init DIR</c>): the folder's *.sql files,
/// in ordinal name order, each run as one simple Query, once, when the database is new (memory:// at every
/// start; a data directory only on the start that creates it). A failure stops the start and names the file
/// and line; nothing records which files ran (use --migrations for a history that grows).
/// </summary>
internal static class InitScripts
{
    public static IReadOnlyList<string> Files(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ArgumentException($"--init folder {folder} does not exist.");
        return [.. Directory.EnumerateFiles(folder, "*.sql").Order(StringComparer.Ordinal)];
    }

    public static async Task RunAsync(IMigrationSession session, IReadOnlyList<string> folders, CancellationToken cancellationToken)
    {
        foreach (var folder in folders)
        {
            foreach (var file in Files(folder))
            {
                var script = await File.ReadAllTextAsync(file, cancellationToken);
                try
                {
                    await session.QueryAsync(script, cancellationToken);
                }
                catch (MigrationSqlException error)
                {
                    var line = error.Position is { } position ? script[..Math.Min(position - 1, script.Length)].Count(c => c == '\n') + 1 : (int?)null;
                    throw new MigrationFailedException(
                        $"init script {file}{(line is null ? "" : $" line {line}")} failed: {error.SqlState} {error.PgMessage}" +
                        (error.Detail is null ? "" : $" ({error.Detail})") + ". The server did not start; fix the script and start again.", error);
                }
            }
        }
    }
}
