using System.Globalization;
using Npgsql;
using ZeroPg.Cli.Scripts;

namespace ZeroPg.Cli.Graduation;

internal sealed record GraduateRequest
{
    /// <summary>The source: a data directory or a running server's URL.</summary>
    public required string Database { get; init; }
    /// <summary>The target PostgreSQL's URL: an existing, empty database.</summary>
    public required string Target { get; init; }
    public bool NoOwner { get; init; }
    public bool NoPrivileges { get; init; }
    /// <summary>Keep the dump that was restored at this path.</summary>
    public string? KeepDump { get; init; }
    /// <summary>Only compare source and target (after an earlier graduation).</summary>
    public bool VerifyOnly { get; init; }
}

/// <summary>
/// `zeropg graduate`: dump the source for the target's version, restore it into the target in one
/// transaction, then verify table by table and print the report. Exit code 1 on any difference.
/// </summary>
internal static class Graduator
{
    public static async Task<int> RunAsync(GraduateRequest request, TextWriter report, ProgressLog log, CancellationToken cancellationToken)
    {
        if (!PostgresUrl.LooksLikeUrl(request.Target))
            throw new GraduationException($"--to must be a postgresql:// URL, not '{PostgresUrl.Redacted(request.Target)}'.");
        var targetUrl = PostgresUrl.Parse(request.Target);
        using var loggers = log.ServerLogs();
        await using var source = await DatabaseEndpoint.OpenAsync(request.Database, loggers, cancellationToken);
        await using var target = new NpgsqlConnection(targetUrl.ConnectionString("zeropg graduate").ConnectionString);
        try
        {
            await target.OpenAsync(cancellationToken);
        }
        catch (Exception error) when (error is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            var message = error is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : error.Message;
            throw new GraduationException($"could not connect to the target {targetUrl}: {message}", error is PostgresException { Hint: { } h } ? h : null, error);
        }
        var targetMajor = await TargetCompatibility.ServerMajorAsync(target, cancellationToken);
        var targetVersion = (string)(await new NpgsqlCommand("SHOW server_version", target).ExecuteScalarAsync(cancellationToken))!;
        if (targetMajor < TargetCompatibility.OldestTarget)
            throw new GraduationException($"the target is PostgreSQL {targetVersion}; zeropg graduate supports PostgreSQL {TargetCompatibility.OldestTarget} and newer.", "Upgrade the target server, or pick a newer one.");

        await using var sourceConnection = source.CreateConnection("zeropg graduate");
        await Dumper.OpenAsync(sourceConnection, source, cancellationToken);

        if (!request.VerifyOnly)
        {
            await CheckTargetIsEmptyAsync(target, cancellationToken);
            await CheckExtensionsAsync(sourceConnection, target, cancellationToken);
            await CopyAsync(source, target, request, Math.Min(targetMajor, TargetCompatibility.NewestTarget), log, cancellationToken);
        }

        log.Progress("verifying table by table");
        var items = await Verifier.CompareAsync(sourceConnection, target, log, cancellationToken);
        return WriteReport(report, source, targetUrl, targetVersion, items);
    }

    private static async Task CopyAsync(DatabaseEndpoint source, NpgsqlConnection target, GraduateRequest request, int targetVersion, ProgressLog log, CancellationToken cancellationToken)
    {
        var dumpFile = request.KeepDump is { } keep ? Path.GetFullPath(keep) : Path.Combine(Path.GetTempPath(), $"zeropg-graduate-{Environment.ProcessId}-{Guid.NewGuid():N}.sql");
        try
        {
            log.Progress($"dumping {source.Description} for PostgreSQL {targetVersion}");
            await using (var stream = new FileStream(dumpFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await Dumper.DumpAsync(source, new DumpRequest
                {
                    Database = request.Database,
                    TargetVersion = targetVersion,
                    NoOwner = request.NoOwner,
                    NoPrivileges = request.NoPrivileges,
                }, stream, log, cancellationToken);
            }
            log.Progress("restoring into the target in one transaction");
            await using var file = new FileStream(dumpFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            using var reader = new StreamReader(file, new System.Text.UTF8Encoding(false, true), false, 1 << 16);
            var runner = new ScriptRunner(target, new ScriptRunOptions { SingleTransaction = true }, log)
            {
                RequireTerminatedStatements = true,
                Position = () => $"{100.0 * file.Position / Math.Max(1, file.Length):0}%",
            };
            var summary = await runner.RunAsync(new ScriptReader(reader), cancellationToken);
            log.Progress($"restored: {summary.Statements:N0} statements, {summary.Rows:N0} rows");
        }
        catch (ScriptRunException error)
        {
            throw new GraduationException($"the target refused the dump, nothing was changed there (rolled back). At dump {error.Message}",
                error.Hint ?? (request.KeepDump is null ? "Run again with --keep-dump FILE to look at the statement." : null), error);
        }
        finally
        {
            if (request.KeepDump is null)
                File.Delete(dumpFile);
        }
    }

    private static async Task CheckTargetIsEmptyAsync(NpgsqlConnection target, CancellationToken cancellationToken)
    {
        const string query = """
            SELECT kind || ' ' || name FROM (
              SELECT 'relation' AS kind, format('%I.%I', c.relnamespace::regnamespace, c.relname) AS name FROM pg_catalog.pg_class c
              WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
                AND c.relnamespace::regnamespace::text !~ '^pg_(toast|temp)' AND c.oid >= 16384
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
              UNION ALL
              SELECT 'schema', quote_ident(n.nspname) FROM pg_catalog.pg_namespace n
              WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname !~ '^pg_' AND n.oid >= 16384
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
            ) o ORDER BY 1 LIMIT 6
            """;
        var found = new List<string>();
        await using (var command = new NpgsqlCommand(query, target))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                found.Add(reader.GetString(0));
        }
        if (found.Count > 0)
        {
            throw new GraduationException(
                $"the target database is not empty ({string.Join(", ", found.Take(5))}{(found.Count > 5 ? ", ..." : "")}): nothing was changed.",
                "Graduate into a new, empty database (createdb NAME), or compare an earlier graduation with --verify-only.");
        }
    }

    private static async Task CheckExtensionsAsync(NpgsqlConnection source, NpgsqlConnection target, CancellationToken cancellationToken)
    {
        var used = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT extname FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' ORDER BY 1", source))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                used.Add(reader.GetString(0));
        }
        if (used.Count == 0)
            return;
        var available = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT name FROM pg_catalog.pg_available_extensions", target))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
                available.Add(reader.GetString(0));
        }
        var missing = used.Where(e => !available.Contains(e)).ToList();
        if (missing.Count > 0)
        {
            throw new GraduationException(
                $"the target server does not have extension{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)}, which the source uses: nothing was changed.",
                "Install them on the target server first (e.g. apt-get install postgresql-15-pgvector for vector).");
        }
    }

    /// <summary>`zeropg serve` in front of the new server as a pool (--upstream): the app keeps one URL while backends stay few.</summary>
    internal static string PooledStartLine(PostgresUrl target)
    {
        var sslMode = target.IsUnixSocket ? "disable" : target.SslMode ?? "prefer";
        var host = target.IsUnixSocket ? "localhost" : target.Host.Contains(':') ? $"[{target.Host}]" : target.Host;
        var user = Uri.EscapeDataString(target.User);
        var upstream = $"postgresql://{user}:{(target.Password is null ? "PASSWORD" : "$PGPASSWORD")}@{host}:{target.Port}/{Uri.EscapeDataString(target.Database)}?sslmode={sslMode}";
        return $"zeropg serve --engine postgres --upstream \"{upstream}\" --pool 10 --user {target.User} --password \"$PGPASSWORD\" --port 5432";
    }

    private static int WriteReport(TextWriter report, DatabaseEndpoint source, PostgresUrl target, string targetVersion, List<VerifiedItem> items)
    {
        var differences = items.Count(i => !i.Equal);
        report.WriteLine($"zeropg graduate: {source.Description} -> {target} (PostgreSQL {targetVersion})");
        report.WriteLine();
        var width = Math.Min(60, items.Select(i => i.Kind.Length + 1 + i.Name.Length).DefaultIfEmpty(10).Max());
        report.WriteLine($"  {"object".PadRight(width)}  {"source",-22}  {"target",-22}  result");
        foreach (var item in items)
        {
            var name = $"{item.Kind} {item.Name}";
            report.WriteLine($"  {name.PadRight(width)}  {item.Source ?? "",-22}  {item.Target ?? "",-22}  {(item.Equal ? "equal" : "DIFFERENT")}");
        }
        report.WriteLine();
        var tables = items.Where(i => i.Kind is "table" or "matview").ToList();
        var sequences = items.Count(i => i.Kind == "sequence");
        var rows = tables.Sum(t => t.Rows).ToString("N0", CultureInfo.InvariantCulture);
        if (differences == 0)
        {
            report.WriteLine($"Result: EQUAL. {tables.Count} tables ({rows} rows), {sequences} sequences and the schema objects match.");
            report.WriteLine($"Next: point the app at {target} (its DATABASE_URL / connection string) instead of ZeroPg;");
            report.WriteLine("      keep the ZeroPg data directory until the app runs well on the new server.");
            report.WriteLine("Size the new server for its memory and CPUs: zeropg tune --memory <its RAM, e.g. 4GB> --cpus <N> --format conf");
            report.WriteLine("      (append to postgresql.conf and restart), or --format flags for `postgres -c ...`.");
            report.WriteLine($"Pooled: {PooledStartLine(target)}");
            report.WriteLine("      the app connects to ZeroPg as before; at most 10 backends of the new server serve it, lent per transaction,");
            report.WriteLine("      and each connection keeps its own prepared statements, settings, temp tables, cursors, locks and LISTENs.");
            return 0;
        }
        report.WriteLine($"Result: DIFFERENT. {differences} difference{(differences == 1 ? "" : "s")} (marked above); the app should not switch yet.");
        return 1;
    }
}
