using System.Text.Json;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// `dotnet publish src/ZeroPg.Cli -r linux-x64 -p:PublishAot=true` makes a native zeropg (a sidecar that needs no .NET and
/// reopens its data directory faster): published once here, then run through every part of the server that writes or
/// reads JSON (the engine's start and control commands, extensions loaded at run time, a database's metadata, the
/// manifest, the dashboard, a backup and its listing, the reports), since a native build has no reflection-based
/// serializer and fails where one is still used.
/// </summary>
[Trait("Category", "Slow")] // the publish alone is ~3.5 CPU-minutes; every build's AOT and trim analyzers (IsAotCompatible) run in the default run
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NativeAotTests(NativeAotTests.Published published) : IClassFixture<NativeAotTests.Published>
{
    public sealed class Published : IAsyncLifetime
    {
        private readonly string _work = Directory.CreateTempSubdirectory("zeropg-aot-").FullName;

        public string Executable => Path.Combine(_work, "out", "ZeroPg.Cli");

        public async Task InitializeAsync()
        {
            var project = Path.Combine(RepoPaths.Root, "src", "ZeroPg.Cli", "ZeroPg.Cli.csproj");
            // Without Roslyn's analyzers (RepositoryBuilds.SharedProperties): the native compiler runs its own trim and AOT
            // analysis of the whole program, which the check below reads (an IL2057 put in Program.cs failed it).
            var result = await RepositoryBuilds.OneAtATimeAsync(() => ExternalTool.RunAsync("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64",
                "-p:PublishAot=true", "-o", Path.Combine(_work, "out"), "-nologo", .. RepositoryBuilds.SharedProperties], timeout: TimeSpan.FromMinutes(10)));
            Assert.True(result.ExitCode == 0, $"the native AOT publish failed ({result.ExitCode}): {result.All}");
            // No trim or AOT warning: each one is a place that may fail only in this build.
            Assert.DoesNotMatch(@"warning IL\d{4}", result.All);
        }

        public Task DisposeAsync()
        {
            Directory.Delete(_work, recursive: true);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task The_published_server_is_native_and_prints_its_version()
    {
        var header = new byte[4];
        await using (var file = File.OpenRead(published.Executable))
            await file.ReadExactlyAsync(header);
        Assert.Equal("\u007fELF"u8.ToArray(), header);
        Assert.False(File.Exists(Path.ChangeExtension(published.Executable, ".dll")), "a native build has no managed assembly beside it");

        var version = await ExternalTool.RunAsync(published.Executable, ["--version"]);
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^zeropg \S+ \(PostgreSQL 18\.\d+, PGlite ", version.Stdout.Trim());
    }

    [Fact]
    public async Task A_data_directory_with_an_extension_a_second_database_and_a_backup_comes_back_after_a_restart()
    {
        using var directory = new Engine.TempDirectory();
        var data = directory.Sub("data");
        var backup = $"file://{directory.Sub("backup")}";
        await using (var cli = await StartAsync(data, "--http-port", "0", "--backup", backup))
        {
            Assert.Equal(backup, cli.Ready.GetProperty("backup").GetProperty("url").GetString());
            await using (var connection = new NpgsqlConnection(cli.ConnectionString))
            {
                await connection.OpenAsync();
                foreach (var sql in (string[])["CREATE EXTENSION pg_trgm", "CREATE TABLE t (v text)", "INSERT INTO t VALUES ('zeropg'), ('native')", "CREATE DATABASE d1"])
                    await new NpgsqlCommand(sql, connection).ExecuteNonQueryAsync();
                Assert.Equal(3f / 7, (float)(await new NpgsqlCommand("SELECT similarity('abcd', 'abce')::real", connection).ExecuteScalarAsync())!, 3); // 3 of 7 trigrams shared
            }
            await using (var d1 = new NpgsqlConnection(cli.ConnectionString + ";Database=d1"))
            {
                await d1.OpenAsync();
                await new NpgsqlCommand("CREATE TABLE in_d1 AS SELECT 7 AS n", d1).ExecuteNonQueryAsync();
            }

            using var http = new HttpClient();
            using var status = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{cli.Ready.GetProperty("httpPort").GetInt32()}/api/status"));
            var databases = status.RootElement.GetProperty("databases").EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();
            Assert.Contains("postgres", databases);
            Assert.Contains("d1", databases);

            await cli.SignalAsync("TERM");
            Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        var stopped = await ExternalTool.RunAsync(published.Executable, ["status", "--db", data]);
        Assert.Equal(3, stopped.ExitCode);
        Assert.False(JsonDocument.Parse(stopped.Stdout).RootElement.GetProperty("running").GetBoolean());

        var listing = await ExternalTool.RunAsync(published.Executable, ["backup", "list", backup, "--json"]);
        Assert.True(listing.ExitCode == 0, listing.All);
        Assert.NotEmpty(JsonDocument.Parse(listing.Stdout).RootElement.GetProperty("BaseBackups").EnumerateArray());

        await using (var cli = await StartAsync(data))
        {
            await using var connection = new NpgsqlConnection(cli.ConnectionString);
            await connection.OpenAsync();
            Assert.Equal(2L, await new NpgsqlCommand("SELECT count(*) FROM t WHERE v % 'zeropg' OR v = 'native'", connection).ExecuteScalarAsync());
            await using var d1 = new NpgsqlConnection(cli.ConnectionString + ";Database=d1");
            await d1.OpenAsync();
            Assert.Equal(7, await new NpgsqlCommand("SELECT n FROM in_d1", d1).ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task The_reports_print_their_json()
    {
        using var directory = new Engine.TempDirectory();
        var project = directory.Sub("app");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "001_init.sql"), "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE TABLE a (id int);\n");
        var check = await ExternalTool.RunAsync(published.Executable, ["check", project, "--format", "json"]);
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(check.Stdout).RootElement.ValueKind);
        Assert.Contains("pg_trgm", check.Stdout);

        var tune = await ExternalTool.RunAsync(published.Executable, ["tune", "--format", "json", "--memory", "4GB", "--cpus", "2"]);
        Assert.True(tune.ExitCode == 0, tune.All);
        Assert.Equal("1024MB", JsonDocument.Parse(tune.Stdout).RootElement.GetProperty("shared_buffers").GetString());
        Assert.Equal("5MB", JsonDocument.Parse(tune.Stdout).RootElement.GetProperty("work_mem").GetString());
    }

    private Task<CliProcess> StartAsync(string data, params string[] more)
        => CliProcess.StartExecutableReadyAsync(published.Executable, ["--port", "0", "--db", data, .. more]);
}
