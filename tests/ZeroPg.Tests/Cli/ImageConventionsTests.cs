using Npgsql;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>What `docker run postgres` users bring: POSTGRES_USER/POSTGRES_PASSWORD, init scripts, -c settings; and pg_ctl-like status/stop.</summary>
public sealed class ImageConventionsTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll");

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Postgres_user_and_password_init_scripts_on_a_new_directory_only_and_c_settings()
    {
        using var directory = new TempDirectory("zeropg-image");
        var init = directory.Sub("initdb.d");
        Directory.CreateDirectory(init);
        await File.WriteAllTextAsync(Path.Combine(init, "01-schema.sql"), "create table seeded (x int);\ninsert into seeded values (1), (2);\n");
        await File.WriteAllTextAsync(Path.Combine(init, "02-more.sql"), "insert into seeded values (3);\n");
        var environment = new Dictionary<string, string> { ["POSTGRES_USER"] = "app", ["POSTGRES_PASSWORD"] = "image pw" };
        string[] arguments = ["--port", "0", "--db", directory.Sub("data"), "--init", init, "-c", "work_mem=77MB"];

        for (var start = 0; start < 2; start++)
        {
            // The second start finds the directory made: the scripts do not run again (they would fail: the table exists).
            await using var cli = await CliProcess.StartReadyAsync(environment, arguments);
            // POSTGRES_DB defaults to POSTGRES_USER, as in the image: the database app is made and the scripts run there.
            Assert.StartsWith("postgresql://app@", cli.Ready.GetProperty("url").GetString());
            Assert.EndsWith("/app", cli.Ready.GetProperty("url").GetString());
            var builder = new NpgsqlConnectionStringBuilder(cli.ConnectionString) { Username = "app", Password = "image pw", Database = null };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            Assert.Equal("app|app|6|77MB|true", await connection.TextAsync(
                "select current_database() || '|' || current_user || '|' || (select sum(x) from seeded) || '|' || current_setting('work_mem') || '|' || (select rolsuper from pg_roles where rolname = 'app')"));
            await connection.ExecAsync("set work_mem = '1MB'; reset work_mem");
            Assert.Equal("77MB", await connection.TextAsync("show work_mem")); // -c is the default RESET returns to
            builder.Password = "wrong";
            await using var wrong = new NpgsqlConnection(builder.ConnectionString);
            Assert.Equal("28P01", (await Assert.ThrowsAsync<PostgresException>(() => wrong.OpenAsync())).SqlState);
        }
    }

    [Fact]
    public async Task A_failing_init_script_stops_the_start_and_names_the_file_and_line()
    {
        using var directory = new TempDirectory("zeropg-init-fail");
        await File.WriteAllTextAsync(directory.Sub("01-bad.sql"), "create table ok (x int);\nselect * from missing_table;\n");
        await using var cli = CliProcess.Start("--port", "0", "--init", directory.Path); // killed if the start does not fail in time
        await cli.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, cli.Process.ExitCode);
        Assert.Contains("01-bad.sql line 2 failed: 42P01 relation \"missing_table\" does not exist", cli.Stderr);
    }

    [Fact]
    public async Task A_setting_without_a_value_is_refused_in_one_line()
    {
        var result = await ExternalTool.RunAsync("dotnet", [Cli, "serve", "--port", "0", "-c", "work_mem"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("-c work_mem: expected name=value", result.Stderr);
    }

    [Fact]
    public async Task Status_and_stop_find_the_server_of_a_data_directory()
    {
        using var directory = new TempDirectory("zeropg-control");
        var data = directory.Sub("data");
        var stopped = await ExternalTool.RunAsync("dotnet", [Cli, "status", "--db", data]);
        Assert.Equal(3, stopped.ExitCode);
        Assert.Contains("\"running\":false", stopped.Stdout);

        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--db", data);
        var running = await ExternalTool.RunAsync("dotnet", [Cli, "status", "--db", data]);
        Assert.Equal(0, running.ExitCode);
        Assert.Contains($"\"pid\":{cli.Process.Id}", running.Stdout);

        var stop = await ExternalTool.RunAsync("dotnet", [Cli, "stop", "--db", data]);
        Assert.True(stop.ExitCode == 0, stop.All);
        Assert.True(cli.Process.HasExited, "the server still runs after zeropg stop returned");
        Assert.Equal(0, cli.Process.ExitCode);
        Assert.Equal(3, (await ExternalTool.RunAsync("dotnet", [Cli, "status", "--db", data])).ExitCode);
    }
}
