using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Migrations;

/// <summary>What a run did.</summary>
public sealed record MigrationSummary(int Applied, int AlreadyApplied, TimeSpan Elapsed);

/// <summary>
/// Applies pending migrations of one or more folders, in order, each in the ledger of the app's own tool:
/// Prisma folders in _prisma_migrations exactly as `prisma migrate deploy` writes it (so the app's own
/// deploy later finds nothing to do), drizzle-kit folders in drizzle.__drizzle_migrations as drizzle's
/// migrator writes it, Flyway-style and plain .sql folders in ZeroPg's own zeropg_migrations with
/// checksums (a changed applied file is an error, as Flyway's validate makes it). A failing migration
/// stops the run with the file, the statement and Postgres's error.
/// </summary>
public sealed partial class MigrationRunner(IMigrationSession session, ILogger logger)
{
    /// <summary>Prisma's advisory lock key (schema engine, postgres flavour).</summary>
    public const long PrismaLockKey = 72707369;

    /// <summary>ZeroPg's own lock key for its ledger ("zpmg").</summary>
    public const long ZeroPgLockKey = 0x7A706D67;

    public async Task<MigrationSummary> ApplyAsync(IReadOnlyList<MigrationFolder> folders, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var applied = 0;
        var skipped = 0;
        var total = folders.Sum(f => f.Files.Count);
        foreach (var folder in folders)
        {
            Log.Folder(logger, folder.Path, folder.Kind.ToString(), folder.Files.Count);
            var (a, s) = folder.Kind switch
            {
                MigrationKind.Prisma => await PrismaAsync(folder, cancellationToken),
                MigrationKind.Drizzle => await DrizzleAsync(folder, cancellationToken),
                _ => await OwnLedgerAsync(folder, cancellationToken),
            };
            applied += a;
            skipped += s;
        }
        var summary = new MigrationSummary(applied, skipped, Stopwatch.GetElapsedTime(started));
        Log.Done(logger, applied, skipped, total, summary.Elapsed.TotalSeconds);
        return summary;
    }

    private async Task<(int Applied, int Skipped)> PrismaAsync(MigrationFolder folder, CancellationToken cancellationToken)
    {
        await QueryAsync($"SELECT pg_advisory_lock({PrismaLockKey})", cancellationToken);
        try
        {
            var exists = await ScalarAsync("SELECT to_regclass('_prisma_migrations') IS NOT NULL", cancellationToken) == "t";
            if (!exists)
            {
                // `prisma migrate deploy` refuses a non-empty database without its ledger (P3005): baseline it first.
                var tables = await ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'zeropg_migrations'", cancellationToken);
                if (tables != "0")
                    throw new MigrationFailedException($"{folder.Path}: the database schema is not empty but has no _prisma_migrations table " +
                        "(Prisma's P3005). Baseline it with `prisma migrate resolve --applied <migration>` or start from an empty database.");
                await QueryAsync(PrismaLedgerSql, cancellationToken);
            }
            var rows = await session.QueryAsync(
                "SELECT \"migration_name\", \"checksum\", \"finished_at\" IS NOT NULL, \"rolled_back_at\" IS NOT NULL, coalesce(\"logs\", '') FROM \"_prisma_migrations\" ORDER BY \"started_at\" ASC", cancellationToken);
            var failed = rows.FirstOrDefault(r => r[2] == "f" && r[3] == "f");
            if (failed is not null)
                throw new MigrationFailedException($"{folder.Path}: migration {failed[0]} failed when it was applied before and is recorded as failed in _prisma_migrations (Prisma's P3009). " +
                    $"Fix it, then mark it with `prisma migrate resolve --rolled-back {failed[0]}` (or --applied).\n{failed[4]}");
            var done = rows.Where(r => r[2] == "t" && r[3] == "f").GroupBy(r => r[0]!).ToDictionary(g => g.Key, g => g.First()[1]);
            var applied = 0;
            for (var i = 0; i < folder.Files.Count; i++)
            {
                var file = folder.Files[i];
                var bytes = await File.ReadAllBytesAsync(file.Path, cancellationToken);
                var checksum = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (done.TryGetValue(file.Id, out var recorded))
                {
                    if (recorded != checksum)
                        Log.PrismaChecksumChanged(logger, file.Id); // Prisma warns too, and deploys on
                    continue;
                }
                var script = Encoding.UTF8.GetString(bytes);
                var id = Guid.NewGuid().ToString();
                var timer = Stopwatch.GetTimestamp();
                // The statements Prisma's schema engine sends (INSERT started, +1 step, finished), with its client-side times.
                await QueryAsync($"INSERT INTO \"_prisma_migrations\" (\"id\",\"checksum\",\"started_at\",\"migration_name\") VALUES ({Literal(id)},{Literal(checksum)},{PrismaNow()},{Literal(file.Id)})", cancellationToken);
                try
                {
                    await session.QueryAsync(script, cancellationToken); // ONE simple Query: one implicit transaction, as Prisma sends it
                }
                catch (MigrationSqlException error)
                {
                    var report = await DescribeFailureAsync(folder, file, script, error, cancellationToken);
                    await QueryAsync($"UPDATE \"_prisma_migrations\" SET \"logs\" = {Literal(report)} WHERE \"id\" = {Literal(id)}", cancellationToken);
                    throw new MigrationFailedException(report, error);
                }
                await QueryAsync($"UPDATE \"_prisma_migrations\" SET \"applied_steps_count\" = (\"applied_steps_count\" + 1) WHERE \"id\" = {Literal(id)}", cancellationToken);
                await QueryAsync($"UPDATE \"_prisma_migrations\" SET \"finished_at\" = {PrismaNow()} WHERE \"id\" = {Literal(id)}", cancellationToken);
                applied++;
                Log.Applied(logger, i + 1, folder.Files.Count, file.Id, Stopwatch.GetElapsedTime(timer).TotalMilliseconds);
            }
            return (applied, folder.Files.Count - applied);
        }
        finally
        {
            await TryQueryAsync($"SELECT pg_advisory_unlock({PrismaLockKey})", cancellationToken);
        }
    }

    /// <summary>Prisma's schema engine, postgres flavour: the ledger table as `prisma migrate deploy` creates it.</summary>
    /// <summary>Prisma's schema engine, postgres flavour: the ledger table exactly as `prisma migrate deploy` creates it.</summary>
    internal const string PrismaLedgerSql =
        "CREATE TABLE _prisma_migrations (\n" +
        "    id                      VARCHAR(36) PRIMARY KEY NOT NULL,\n" +
        "    checksum                VARCHAR(64) NOT NULL,\n" +
        "    finished_at             TIMESTAMPTZ,\n" +
        "    migration_name          VARCHAR(255) NOT NULL,\n" +
        "    logs                    TEXT,\n" +
        "    rolled_back_at          TIMESTAMPTZ,\n" +
        "    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),\n" +
        "    applied_steps_count     INTEGER NOT NULL DEFAULT 0\n" +
        ");\n";

    /// <summary>Prisma's schema engine records times from its own clock (chrono::Utc::now(), milliseconds), not the server's now().</summary>
    private static string PrismaNow() => Literal(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'+00:00'", System.Globalization.CultureInfo.InvariantCulture)) + "::timestamptz";

    private async Task<(int Applied, int Skipped)> DrizzleAsync(MigrationFolder folder, CancellationToken cancellationToken)
    {
        // drizzle-orm's pg migrator: schema "drizzle", table "__drizzle_migrations", sha256 of the file, the journal's "when";
        // every migration newer than the last recorded one, all in ONE transaction.
        await QueryAsync("CREATE SCHEMA IF NOT EXISTS \"drizzle\"", cancellationToken);
        await QueryAsync("CREATE TABLE IF NOT EXISTS \"drizzle\".\"__drizzle_migrations\" (\n\t\t\tid SERIAL PRIMARY KEY,\n\t\t\thash text NOT NULL,\n\t\t\tcreated_at bigint\n\t\t)", cancellationToken);
        var last = await ScalarAsync("select created_at from \"drizzle\".\"__drizzle_migrations\" order by created_at desc limit 1", cancellationToken);
        var lastMillis = long.TryParse(last, out var millis) ? millis : (long?)null;
        var pending = folder.Files.Where(f => lastMillis is null || (f.JournalWhen ?? 0) > lastMillis).ToList();
        if (pending.Count == 0)
            return (0, folder.Files.Count);
        await QueryAsync("BEGIN", cancellationToken);
        try
        {
            for (var i = 0; i < pending.Count; i++)
            {
                var file = pending[i];
                var text = await File.ReadAllTextAsync(file.Path, cancellationToken);
                var timer = Stopwatch.GetTimestamp();
                foreach (var statement in text.Split("--> statement-breakpoint"))
                {
                    try
                    {
                        await session.QueryAsync(statement, cancellationToken);
                    }
                    catch (MigrationSqlException error)
                    {
                        throw new MigrationFailedException(Describe(folder, file, text, statement, text.IndexOf(statement, StringComparison.Ordinal), error), error);
                    }
                }
                var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
                await QueryAsync($"insert into \"drizzle\".\"__drizzle_migrations\" (\"hash\", \"created_at\") values({Literal(hash)}, {file.JournalWhen ?? 0})", cancellationToken);
                Log.Applied(logger, folder.Files.Count - pending.Count + i + 1, folder.Files.Count, file.Id, Stopwatch.GetElapsedTime(timer).TotalMilliseconds);
            }
            await QueryAsync("COMMIT", cancellationToken);
        }
        catch
        {
            await TryQueryAsync("ROLLBACK", cancellationToken);
            throw;
        }
        return (pending.Count, folder.Files.Count - pending.Count);
    }

    private async Task<(int Applied, int Skipped)> OwnLedgerAsync(MigrationFolder folder, CancellationToken cancellationToken)
    {
        await QueryAsync($"SELECT pg_advisory_lock({ZeroPgLockKey})", cancellationToken);
        try
        {
            await QueryAsync(OwnLedgerSql, cancellationToken);
            var rows = await session.QueryAsync("SELECT version, checksum, file FROM zeropg_migrations", cancellationToken);
            var recorded = rows.ToDictionary(r => r[0]!, r => (Checksum: r[1]!, File: r[2]!));
            var applied = 0;
            for (var i = 0; i < folder.Files.Count; i++)
            {
                var file = folder.Files[i];
                var sql = file.ReadSql();
                var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
                if (recorded.TryGetValue(file.Id, out var entry))
                {
                    if (entry.Checksum != checksum)
                        throw new MigrationFailedException($"{System.IO.Path.Combine(folder.Path, file.RelativePath)}: this migration was applied (as {entry.File}) and has been changed since: " +
                            $"checksum {entry.Checksum} in zeropg_migrations, {checksum} on disk. Revert the change and add a new migration instead.");
                    continue;
                }
                var timer = Stopwatch.GetTimestamp();
                var statements = SqlStatements.Split(sql);
                if (statements.Any(s => SqlStatements.MustRunOutsideTransaction(s.Text) is not null))
                {
                    // CREATE INDEX CONCURRENTLY, VACUUM...: Postgres refuses them in a transaction block, so the file runs
                    // statement by statement, each in its own transaction, then its ledger row: as Flyway runs a
                    // non-transactional migration. A failure leaves the statements before it applied, as there.
                    foreach (var statement in statements)
                    {
                        try
                        {
                            await session.QueryAsync(statement.Text, cancellationToken);
                        }
                        catch (MigrationSqlException error)
                        {
                            throw new MigrationFailedException(Describe(folder, file, sql, statement.Text, statement.Start, error), error);
                        }
                    }
                    await QueryAsync(OwnLedgerInsert(folder, file, checksum, (int)Stopwatch.GetElapsedTime(timer).TotalMilliseconds), cancellationToken);
                }
                else
                {
                    try
                    {
                        // The file and its ledger row in ONE simple Query: applied together or not at all.
                        await session.QueryAsync(sql.TrimEnd() + "\n;\n" + OwnLedgerInsert(folder, file, checksum), cancellationToken);
                    }
                    catch (MigrationSqlException error)
                    {
                        throw new MigrationFailedException(await DescribeFailureAsync(folder, file, sql, error, cancellationToken), error);
                    }
                }
                applied++;
                Log.Applied(logger, i + 1, folder.Files.Count, file.RelativePath, Stopwatch.GetElapsedTime(timer).TotalMilliseconds);
            }
            return (applied, folder.Files.Count - applied);
        }
        finally
        {
            await TryQueryAsync($"SELECT pg_advisory_unlock({ZeroPgLockKey})", cancellationToken);
        }
    }

    internal const string OwnLedgerSql = """
        CREATE TABLE IF NOT EXISTS zeropg_migrations (
            version      text PRIMARY KEY,
            file         text NOT NULL,
            kind         text NOT NULL,
            checksum     text NOT NULL,
            applied_at   timestamptz NOT NULL DEFAULT now(),
            execution_ms integer
        )
        """;

    /// <summary>The ledger row; its execution_ms from the server's clock when it runs in the file's own query, else <paramref name="milliseconds"/>.</summary>
    private static string OwnLedgerInsert(MigrationFolder folder, MigrationFile file, string checksum, int? milliseconds = null)
        => "INSERT INTO zeropg_migrations (version, file, kind, checksum, execution_ms) VALUES (" +
           $"{Literal(file.Id)}, {Literal(file.RelativePath)}, {Literal(folder.Kind.ToString().ToLowerInvariant())}, {Literal(checksum)}, " +
           (milliseconds is { } ms ? $"{ms})" : "(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000)::int)");

    /// <summary>File, statement (from Postgres's error position, else by replaying the script statement by statement in a transaction rolled back) and error.</summary>
    private async Task<string> DescribeFailureAsync(MigrationFolder folder, MigrationFile file, string script, MigrationSqlException error, CancellationToken cancellationToken)
    {
        if (error.Position is { } position && SqlStatements.At(script, position) is { } located)
            return Describe(folder, file, script, located.Text, located.Start, error);
        if (!SqlStatements.ControlsTransactions(script))
        {
            try
            {
                await session.QueryAsync("BEGIN", cancellationToken);
                foreach (var statement in SqlStatements.Split(script))
                {
                    try
                    {
                        await session.QueryAsync(statement.Text, cancellationToken);
                    }
                    catch (MigrationSqlException replayed) when (replayed.SqlState == error.SqlState)
                    {
                        return Describe(folder, file, script, statement.Text, statement.Start, error);
                    }
                }
            }
            catch (MigrationSqlException)
            {
                // Replaying differs from the real run: report without the statement.
            }
            finally
            {
                await TryQueryAsync("ROLLBACK", cancellationToken);
            }
        }
        return Describe(folder, file, script, null, 0, error);
    }

    private static string Describe(MigrationFolder folder, MigrationFile file, string script, string? statement, int offset, MigrationSqlException error)
    {
        var text = new StringBuilder();
        var line = statement is null ? 0 : 1 + script.AsSpan(0, Math.Max(0, Math.Min(offset, script.Length))).Count('\n');
        text.Append($"migration {System.IO.Path.Combine(folder.Path, file.RelativePath)}{(line > 0 ? $":{line}" : "")} failed: ERROR {error.SqlState}: {error.PgMessage}");
        if (statement is not null)
            text.Append($"\n  statement: {(statement.Length > 400 ? statement[..400] + " ..." : statement.Trim())}");
        if (error.Detail is not null)
            text.Append($"\n  DETAIL: {error.Detail}");
        if (error.Hint is not null)
            text.Append($"\n  HINT: {error.Hint}");
        return text.ToString();
    }

    internal static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    private Task QueryAsync(string sql, CancellationToken cancellationToken) => session.QueryAsync(sql, cancellationToken);

    private async Task<string?> ScalarAsync(string sql, CancellationToken cancellationToken)
        => (await session.QueryAsync(sql, cancellationToken)).FirstOrDefault()?[0];

    private async Task TryQueryAsync(string sql, CancellationToken cancellationToken)
    {
        try
        {
            await session.QueryAsync(sql, cancellationToken);
        }
        catch (MigrationSqlException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "migrations: {Path} ({Kind}, {Count} files)")]
        public static partial void Folder(ILogger logger, string path, string kind, int count);

        [LoggerMessage(Level = LogLevel.Information, Message = "migration {Index}/{Count} {Name} applied in {Milliseconds:0} ms")]
        public static partial void Applied(ILogger logger, int index, int count, string name, double milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "migrations: {Applied} applied, {Skipped} already applied (of {Total}) in {Seconds:0.0} s")]
        public static partial void Done(ILogger logger, int applied, int skipped, int total, double seconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "migration {Name} was modified after it was applied (its checksum differs from _prisma_migrations); Prisma deploys on, and so does ZeroPg")]
        public static partial void PrismaChecksumChanged(ILogger logger, string name);
    }
}
