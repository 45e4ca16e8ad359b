using System.CommandLine;
using Microsoft.Extensions.Logging;
using Npgsql;
using ZeroPg.Migrations;

namespace ZeroPg.Cli;

/// <summary>
/// `zeropg migrate DIR... --db PATH | --url URL`: applies pending migrations and exits. With --db, on a ZeroPg
/// data directory (started for the purpose, extensions found by `zeropg check` preloaded); with --url, over a
/// client connection to a running ZeroPg or any Postgres server. Exit 0 when all applied, 1 when one failed.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("DIR") { Description = "migration folders, applied in the order given", Arity = ArgumentArity.OneOrMore };
        var db = new Option<string?>("--db") { Description = "a ZeroPg data directory (created when missing)" };
        var url = new Option<string?>("--url") { Description = "a postgresql:// URL or Npgsql connection string of a running server" };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "logs (progress) go to stderr", DefaultValueFactory = _ => LogLevel.Information };
        var command = new Command("migrate", "Apply pending migrations (Prisma, drizzle-kit, Flyway-style or ordered .sql folders) in the ledger the app's own tool reads, then exit.")
        {
            folders, db, url, logLevel,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var loggerFactory = LoggerFactory.Create(logging => logging
                .SetMinimumLevel(parse.GetValue(logLevel))
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
            var logger = loggerFactory.CreateLogger("ZeroPg.Migrate");
            var directories = parse.GetValue(folders)!;
            var (dataDirectory, connection) = (parse.GetValue(db), parse.GetValue(url));
            if ((dataDirectory is null) == (connection is null))
            {
                Console.Error.WriteLine("zeropg migrate: give exactly one of --db PATH or --url URL");
                return 2;
            }
            try
            {
                if (dataDirectory is not null)
                {
                    var options = new ZeroPgOptions { DataDirectory = dataDirectory, Port = 0, MigrationFolders = directories, Extensions = [ZeroPgOptions.AutoExtensions] };
                    await using var server = await ZeroPgServer.StartAsync(options, loggerFactory, cancellationToken);
                    await server.StopAsync(cancellationToken);
                    return 0;
                }
                await using var client = new NpgsqlConnection(ToConnectionString(connection!));
                await client.OpenAsync(cancellationToken);
                await new MigrationRunner(new NpgsqlMigrationSession(client), logger)
                    .ApplyAsync([.. directories.Select(MigrationFolder.Open)], cancellationToken);
                return 0;
            }
            catch (Exception error) when (error is MigrationFailedException or InvalidOperationException or NpgsqlException or IOException)
            {
                logger.LogCritical("{Message}", error.Message);
                return 1;
            }
        });
        return command;
    }

    /// <summary>postgresql://user:password@host:port/db?x=y as an Npgsql connection string; anything else is taken as one.</summary>
    internal static string ToConnectionString(string url)
    {
        if (!url.StartsWith("postgres://", StringComparison.Ordinal) && !url.StartsWith("postgresql://", StringComparison.Ordinal))
            return url;
        var uri = new Uri(url);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } database ? Uri.UnescapeDataString(database) : "postgres",
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        if (userInfo.Length > 1)
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts[0] == "sslmode" && parts.Length == 2)
                builder.SslMode = Enum.Parse<SslMode>(parts[1].Replace("-", ""), ignoreCase: true);
        }
        return builder.ConnectionString;
    }
}
