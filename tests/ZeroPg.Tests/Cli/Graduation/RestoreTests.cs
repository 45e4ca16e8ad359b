using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli.Graduation;

/// <summary>`zeropg restore` and `zeropg dump` on bad input: clear errors, nothing half-written.</summary>
[Collection(GraduationCollection.Name)]
public sealed class RestoreTests(GraduationFixture fixture)
{
    private const string Script = """
        SET statement_timeout = 0;
        CREATE TABLE public.items (id int PRIMARY KEY, name text);
        COPY public.items (id, name) FROM stdin;
        1	one
        2	two
        \.

        CREATE SEQUENCE public.numbers;
        SELECT pg_catalog.setval('public.numbers', 41, true);

        """;

    [Fact]
    public async Task A_script_from_stdin_restores_with_its_copy_data_and_sequence()
    {
        var directory = fixture.Sub("from stdin");
        var restore = await ZeroPgCli.RunAsync(["restore", "--db", directory, "-"], stdin: Script);
        Assert.True(restore.ExitCode == 0, restore.All);
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--db", directory);
        await using var connection = new NpgsqlConnection(cli.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(name, ',' ORDER BY id) || ' ' || nextval('public.numbers') FROM public.items", connection);
        Assert.Equal("one,two 42", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task An_error_names_the_file_line_and_a_new_directory_is_removed()
    {
        var file = fixture.Sub("broken.sql");
        await File.WriteAllTextAsync(file, Script + "CREATE TABLE public.items (id int);\n");
        var directory = fixture.Sub("never half restored");
        var restore = await ZeroPgCli.RunAsync(["restore", "--db", directory, file]);
        Assert.True(restore.ExitCode != 0, restore.All);
        Assert.Contains("42P07", restore.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"line 10\b", restore.Stderr); // the appended statement
        Assert.Contains("removed", restore.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(directory), "the new data directory was left behind");
    }

    [Fact]
    public async Task A_truncated_pg_dump_file_is_refused_before_anything_runs()
    {
        var whole = fixture.Sub("whole.sql");
        var dump = await ZeroPgCli.RunAsync(["dump", "--db", fixture.ObjectsDirectory, "-f", whole, "-q"]);
        Assert.True(dump.ExitCode == 0, dump.All);
        var text = await File.ReadAllTextAsync(whole);
        var truncated = fixture.Sub("truncated.sql");
        await File.WriteAllTextAsync(truncated, text[..(text.Length * 2 / 3)]);
        var directory = fixture.Sub("from truncated");
        var restore = await ZeroPgCli.RunAsync(["restore", "--db", directory, truncated]);
        Assert.True(restore.ExitCode != 0, restore.All);
        Assert.Contains("truncated", restore.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(directory), "the new data directory was left behind");
    }

    [Fact]
    public async Task Dump_of_a_directory_in_use_is_refused_and_a_url_dumps_the_running_server()
    {
        var directory = fixture.Sub("in use");
        var restore = await ZeroPgCli.RunAsync(["restore", "--db", directory, "-"], stdin: Script);
        Assert.True(restore.ExitCode == 0, restore.All);
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--db", directory);
        var file = fixture.Sub("locked.sql");
        var locked = await ZeroPgCli.RunAsync(["dump", "--db", directory, "-f", file]);
        Assert.True(locked.ExitCode != 0, locked.All);
        Assert.Contains("in use by another ZeroPg server", locked.Stderr, StringComparison.Ordinal);
        Assert.Contains("--db postgresql://", locked.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(file), "a dump file was written for a refused dump");

        var port = cli.Ready.GetProperty("port").GetInt32();
        var overUrl = await ZeroPgCli.RunAsync(["dump", "--db", $"postgresql://postgres@127.0.0.1:{port}/postgres", "-t", "public.items", "--data-only", "-q"]);
        Assert.True(overUrl.ExitCode == 0, overUrl.All);
        Assert.Contains("COPY public.items (id, name) FROM stdin;", overUrl.Stdout, StringComparison.Ordinal);
        Assert.Contains("2\ttwo", overUrl.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE TABLE", overUrl.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("numbers", overUrl.Stdout, StringComparison.Ordinal);
    }
}
