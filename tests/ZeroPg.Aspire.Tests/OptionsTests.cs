using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ZeroPg.Aspire.Tests;

/// <summary>
/// The options of AddZeroPg as an AppHost sets them, on a server alone in an AppHost (the sample's project, its own
/// resources removed): user and password parameters, init files, a migrations folder, extensions, and the dashboard URL
/// Aspire's dashboard shows.
/// </summary>
public sealed class OptionsTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task User_password_init_files_migrations_extensions_and_dashboard()
    {
        var folder = Directory.CreateTempSubdirectory("zeropg-aspire-options-").FullName;
        try
        {
            var init = Directory.CreateDirectory(Path.Combine(folder, "init")).FullName;
            await File.WriteAllTextAsync(Path.Combine(init, "01-seed.sql"), "create table seeded (name text); insert into seeded values ('from init');");
            var migrations = Directory.CreateDirectory(Path.Combine(folder, "migrations")).FullName;
            await File.WriteAllTextAsync(Path.Combine(migrations, "V1__items.sql"), "create extension if not exists vector; create table items (id int primary key, embedding vector(3));");

            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>();
            // The sample's own server and API are AppHostTests' concern: removed, so this AppHost starts only the server of
            // these options and its start waits for nothing else.
            foreach (var sample in builder.Resources.ToList())
                builder.Resources.Remove(sample);
            var user = builder.AddParameter("shop-user", "shopper");
            var password = builder.AddParameter("shop-password", "s3cret pw", secret: true);
            var shop = builder.AddZeroPg("shop", user, password)
                .WithInitFiles(init)
                .WithMigrations(migrations)
                .WithExtensions("vector", "pgcrypto");
            var orders = shop.AddDatabase("orders", "order_db");
            var appHostLog = new CapturedLog();
            builder.Services.AddLogging(logging => logging.AddProvider(appHostLog)); // what the AppHost's console shows
            await using var app = await builder.BuildAsync();
            await ResourceReport.WaitAsync(app, app.StartAsync(), StartTimeout, "the AppHost's start");
            await ResourceReport.WaitAsync(app, app.ResourceNotifications.WaitForResourceHealthyAsync("orders"), StartTimeout, "orders healthy");

            var serverConnection = await shop.Resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None);
            var parsed = new NpgsqlConnectionStringBuilder(serverConnection);
            Assert.Equal(("shopper", "s3cret pw"), (parsed.Username, parsed.Password));
            await using (var connection = new NpgsqlConnection(serverConnection))
            {
                await connection.OpenAsync();
                // As the Postgres image: a user other than postgres gets a database of its name, where the init files run.
                Assert.Equal("shopper|shopper|from init", await Scalar(connection, "select current_user || '|' || current_database() || '|' || (select name from seeded)"));
            }
            await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnection) { Database = "postgres" }.ConnectionString))
            {
                // Migrations are the postgres database's, as with `zeropg serve --migrations`; pgcrypto was preloaded.
                await connection.OpenAsync();
                Assert.Equal("0", await Scalar(connection, "select count(*) from items"));
                await Scalar(connection, "insert into items values (1, '[1,2,3]')");
                Assert.Equal("t", await Scalar(connection, "create extension if not exists pgcrypto; select (digest('x', 'sha256') is not null)::text::char"));
            }

            var databaseConnection = await orders.Resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None);
            await using (var connection = new NpgsqlConnection(databaseConnection))
            {
                await connection.OpenAsync();
                Assert.Equal("order_db", await Scalar(connection, "select current_database()"));
                await Scalar(connection, "create extension if not exists vector; select '[1,2,3]'::vector::text");
            }

            // ZeroPg's own logs reach the AppHost's logging (its console), under ZeroPg's categories, not only the resource's log.
            Assert.Contains(appHostLog.Lines, l => l.StartsWith("ZeroPg", StringComparison.Ordinal) && l.Contains("migration 1/1 V1__items.sql applied", StringComparison.Ordinal));
            Assert.Contains(appHostLog.Lines, l => l.StartsWith("ZeroPg.Aspire.shop: ZeroPg listening at ", StringComparison.Ordinal));

            // ZeroPg's dashboard, published as the resource's URL.
            Assert.True(app.ResourceNotifications.TryGetCurrentState("shop", out var state));
            var dashboard = Assert.Single(state.Snapshot.Urls, u => u.Name == "dashboard");
            using var http = new HttpClient();
            Assert.Contains("<html", await http.GetStringAsync(dashboard.Url), StringComparison.OrdinalIgnoreCase);
            Assert.Contains(state.Snapshot.Urls, u => u.Name == "tcp" && u.Url == $"tcp://{parsed.Host}:{parsed.Port}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<string?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}

/// <summary>Every log line the AppHost's logging receives: "category: message".</summary>
internal sealed class CapturedLog : Microsoft.Extensions.Logging.ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<string> lines) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => lines.Enqueue($"{category}: {formatter(state, exception)}");
    }
}
