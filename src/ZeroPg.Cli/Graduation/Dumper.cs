using System.Text;
using Npgsql;

namespace ZeroPg.Cli.Graduation;

/// <summary>What `zeropg dump` was asked for.</summary>
internal sealed record DumpRequest
{
    public required string Database { get; init; }
    /// <summary>The output file; null writes to stdout.</summary>
    public string? OutputFile { get; init; }
    public bool SchemaOnly { get; init; }
    public bool DataOnly { get; init; }
    public IReadOnlyList<string> Tables { get; init; } = [];
    public int TargetVersion { get; init; } = TargetCompatibility.OldestTarget;
    public bool NoOwner { get; init; }
    public bool NoPrivileges { get; init; }
    public bool NoRoles { get; init; }
}

internal sealed record DumpSummary(long Bytes, int Tables, TimeSpan Elapsed);

/// <summary>
/// `zeropg dump`: pg_dump 18 (WebAssembly) against the source, its output passed through
/// <see cref="DumpFilter"/> for the target version, with the roles in front. A file is written
/// under a temporary name and renamed when complete, so a failed dump leaves no file behind.
/// </summary>
internal static class Dumper
{
    public static async Task<DumpSummary> RunAsync(DumpRequest request, ProgressLog log, CancellationToken cancellationToken)
    {
        using var loggers = log.ServerLogs();
        await using var source = await DatabaseEndpoint.OpenAsync(request.Database, loggers, cancellationToken);
        log.Progress($"dumping {source.Description} for PostgreSQL {request.TargetVersion}+");
        if (request.OutputFile is null)
        {
            await using var stdout = Console.OpenStandardOutput();
            return await DumpAsync(source, request, stdout, log, cancellationToken);
        }
        var file = Path.GetFullPath(request.OutputFile);
        var temp = $"{file}.zeropg-{Environment.ProcessId}.tmp";
        try
        {
            DumpSummary summary;
            await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                summary = await DumpAsync(source, request, stream, log, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, file, overwrite: true);
            return summary;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public static async Task<DumpSummary> DumpAsync(DatabaseEndpoint source, DumpRequest request, Stream output, ProgressLog log, CancellationToken cancellationToken)
    {
        if (request.TargetVersion is < TargetCompatibility.OldestTarget or > TargetCompatibility.NewestTarget)
            throw new GraduationException($"--target-version {request.TargetVersion} is not supported: PostgreSQL {TargetCompatibility.OldestTarget} to {TargetCompatibility.NewestTarget} are.");
        if (request.SchemaOnly && request.DataOnly)
            throw new GraduationException("--schema-only and --data-only cannot be used together.");

        var prelude = new StringBuilder($"--\n-- zeropg dump: for PostgreSQL {request.TargetVersion} and newer (--target-version {request.TargetVersion})\n--\n\n");
        await using (var connection = source.CreateConnection("zeropg dump"))
        {
            await OpenAsync(connection, source, cancellationToken);
            var sourceMajor = await TargetCompatibility.ServerMajorAsync(connection, cancellationToken);
            var problems = await TargetCompatibility.FindProblemsAsync(connection, sourceMajor, request.TargetVersion, cancellationToken);
            if (problems.Count > 0)
            {
                throw new GraduationException(
                    $"the source uses features PostgreSQL {request.TargetVersion} does not have:\n  - {string.Join("\n  - ", problems)}",
                    $"Dump for a newer target (--target-version {TargetCompatibility.NewestTarget} takes everything), or change these objects first.");
            }
            if (!request.NoRoles && !request.DataOnly && await RoleScript.BuildAsync(connection, log.Warn, cancellationToken) is { } roles)
                prelude.Append(roles);
        }

        var tables = 0;
        var counting = new CountingStream(output);
        await using var dump = PgDumpProcess.Start(source, PgDumpArguments(request), e =>
        {
            if (e is PgDumpTableStarted table)
            {
                Interlocked.Increment(ref tables);
                log.Progress($"table {table.Table} (dump at {ProgressLog.Size(table.BytesSoFar)})");
            }
        });
        var writer = new StreamWriter(counting, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16);
        var filter = new DumpFilter(request.TargetVersion, prelude.ToString(), log.Warn);
        await Task.Run(() =>
        {
            using var reader = new StreamReader(dump.Output, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, 1 << 16);
            filter.Copy(reader, writer);
            writer.Flush();
        }, cancellationToken);
        var exitCode = await dump.WaitAsync(cancellationToken);
        if (exitCode != 0)
        {
            var errors = dump.Errors.Count > 0 ? string.Join("\n", dump.Errors) : $"exit code {exitCode}";
            throw new GraduationException($"pg_dump failed: {errors}");
        }
        var summary = new DumpSummary(counting.Written, tables, log.Elapsed);
        log.Progress($"done: {summary.Tables} tables, {ProgressLog.Size(summary.Bytes)}");
        return summary;
    }

    private static IEnumerable<string> PgDumpArguments(DumpRequest request)
    {
        if (request.SchemaOnly)
            yield return "--schema-only";
        if (request.DataOnly)
            yield return "--data-only";
        if (request.NoOwner)
            yield return "--no-owner";
        if (request.NoPrivileges)
            yield return "--no-privileges";
        foreach (var table in request.Tables)
        {
            yield return "-t";
            yield return table;
        }
    }

    internal static async Task OpenAsync(NpgsqlConnection connection, DatabaseEndpoint endpoint, CancellationToken cancellationToken)
    {
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception error) when (error is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            var message = error is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : error.Message;
            throw new GraduationException($"could not connect to {endpoint.Description}: {message}", error is PostgresException { Hint: { } hint } ? hint : null, error);
        }
    }
}
