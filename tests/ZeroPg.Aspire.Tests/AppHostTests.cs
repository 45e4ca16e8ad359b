using System.Diagnostics;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace ZeroPg.Aspire.Tests;

/// <summary>
/// The sample AppHost (samples/AspireApp) run as Aspire's testing builder runs it: DCP starts the API project,
/// the AppHost runs ZeroPg; the database is queried through the connection string the API is given, and over
/// the API (Aspire.Npgsql), and a data directory outlives the AppHost.
/// </summary>
public sealed class AppHostTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task The_app_database_is_healthy_answers_the_referencing_project_and_survives_an_apphost_restart()
    {
        var data = Directory.CreateTempSubdirectory("zeropg-aspire-data-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            await using (var app = await StartAsync(data))
            {
                output.WriteLine($"first start: database healthy after {clock.Elapsed.TotalSeconds:0.0} s");
                var connectionString = await ReferencedConnectionStringAsync(app, "api", "app");
                Assert.Contains("Database=app", connectionString);
                await using (var connection = new NpgsqlConnection(connectionString))
                {
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand("select current_database() || ':' || current_setting('server_version_num')::int / 10000", connection);
                    Assert.Equal("app:18", await command.ExecuteScalarAsync());
                }

                // The API (Aspire.Npgsql's AddNpgsqlDataSource("app")) writes through the same reference.
                await ResourceReport.WaitAsync(app, app.ResourceNotifications.WaitForResourceHealthyAsync("api"), StartTimeout, "api healthy");
                using var http = app.CreateHttpClient("api");
                (await http.PostAsJsonAsync("/notes", new { Text = "kept" })).EnsureSuccessStatusCode();
                Assert.Equal("kept", await http.GetStringAsync("/notes"));
                Assert.StartsWith("app on PostgreSQL 18", await http.GetStringAsync("/"));
                clock.Restart();
            }
            output.WriteLine($"first AppHost stopped (API, ZeroPg with its CHECKPOINT, DCP) in {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(File.Exists(Path.Combine(data, "PG_VERSION")), "the server kept its data in the data directory");

            clock.Restart();
            await using (var app = await StartAsync(data))
            {
                output.WriteLine($"second start: database healthy after {clock.Elapsed.TotalSeconds:0.0} s");
                await using var connection = new NpgsqlConnection(await ReferencedConnectionStringAsync(app, "api", "app"));
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select string_agg(text, ',') from notes", connection);
                Assert.Equal("kept", await command.ExecuteScalarAsync());
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<DistributedApplication> StartAsync(string dataDirectory)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([$"ZeroPg:DataDirectory={dataDirectory}"]);
        var app = await builder.BuildAsync();
        try
        {
            await ResourceReport.WaitAsync(app, app.StartAsync(), StartTimeout, "the AppHost's start");
            await ResourceReport.WaitAsync(app, app.ResourceNotifications.WaitForResourceHealthyAsync("app"), StartTimeout, "app healthy");
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The ConnectionStrings__{name} a referencing resource is started with.</summary>
    private static async Task<string> ReferencedConnectionStringAsync(DistributedApplication app, string resource, string name)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var project = model.Resources.OfType<IResourceWithEnvironment>().Single(r => r.Name == resource);
        // What DCP hands the process (the simple form Aspire's testing docs use; ExecutionConfigurationBuilder is its newer, longer form).
#pragma warning disable CS0618
        var environment = await project.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618
        return environment[$"ConnectionStrings__{name}"];
    }
}
