using System.Text;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>psql's \copy (COPY FROM STDIN / TO STDOUT in the simple protocol), compared byte for byte.</summary>
[Collection(ServerCollection.Name)]
public class PsqlCopyTests(ServerFixture fixture) : IDisposable
{
    private const int Rows = 10_000;
    private readonly string _directory = Directory.CreateTempSubdirectory("zeropg-copy-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Rows in Postgres's own text COPY output form, so a round trip must give the same bytes.</summary>
    private static string TextRows()
    {
        var text = new StringBuilder();
        for (var i = 1; i <= Rows; i++)
        {
            var name = (i % 7) switch
            {
                0 => "tab\\there",
                1 => "back\\\\slash",
                2 => "new\\nline",
                3 => "ünïcødé ✓",
                4 => "",
                _ => $"name {i}",
            };
            var note = i % 5 == 0 ? "\\N" : $"{{\"i\": {i}}}";
            text.Append($"{i}\t{name}\t{i * 1.25m:0.00}\t{(i % 2 == 0 ? 't' : 'f')}\t2024-01-{1 + i % 28:00}\t{note}\n");
        }
        return text.ToString();
    }

    private static string CsvRows()
    {
        var text = new StringBuilder();
        for (var i = 1; i <= Rows; i++)
        {
            var name = (i % 6) switch
            {
                0 => "\"with, comma\"",
                1 => "\"quote \"\" inside\"",
                2 => "\"multi\nline\"",
                3 => "\"\"", // empty string, not NULL
                _ => $"plain {i}",
            };
            var note = i % 5 == 0 ? "" : $"\"{{\"\"i\"\": {i}}}\"";
            text.Append($"{i},{name},{i * 1.25m:0.00},{(i % 2 == 0 ? 't' : 'f')},2024-01-{1 + i % 28:00},{note}\n");
        }
        return text.ToString();
    }

    private Task<ExternalTool.Result> Psql(string script) => ExternalTool.RunAsync("psql",
        [fixture.Url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"], script);

    private static string CreateTable(string table) =>
        $"create table {table} (id int primary key, name text, amount numeric(12,2), flag bool, day date, note jsonb);";

    [Theory]
    [InlineData("text")]
    [InlineData("csv")]
    public async Task Copy_in_and_out_round_trips_byte_exact(string format)
    {
        var table = $"psql_copy_{format}";
        var input = format == "csv" ? CsvRows() : TextRows();
        var inFile = Path.Combine(_directory, $"in.{format}");
        var outFile = Path.Combine(_directory, $"out.{format}");
        await File.WriteAllTextAsync(inFile, input, new UTF8Encoding(false));

        var result = await Psql($"""
            {CreateTable(table)}
            \copy {table} from '{inFile}' with (format {format})
            \copy (select * from {table} order by id) to '{outFile}' with (format {format})
            select count(*), count(note), sum(amount) from {table};
            """);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal($"{Rows}|{Rows - Rows / 5}|62506250.00", result.Stdout.Trim());
        var output = await File.ReadAllBytesAsync(outFile);
        Assert.True(Encoding.UTF8.GetBytes(input).AsSpan().SequenceEqual(output), $"{format} COPY output differs from its input");
    }

    [Fact]
    public async Task Copy_from_stdin_inside_a_transaction_follows_the_transaction()
    {
        var inFile = Path.Combine(_directory, "tx.txt");
        await File.WriteAllTextAsync(inFile, TextRows(), new UTF8Encoding(false));
        var result = await Psql($"""
            {CreateTable("psql_copy_tx")}
            begin;
            insert into psql_copy_tx (id, name) values (0, 'before');
            \copy psql_copy_tx from '{inFile}'
            select count(*) from psql_copy_tx;
            rollback;
            select count(*) from psql_copy_tx;
            begin;
            \copy psql_copy_tx from '{inFile}'
            insert into psql_copy_tx (id, name) values (0, 'after');
            commit;
            select count(*) from psql_copy_tx;
            """);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal($"{Rows + 1}\n0\n{Rows + 1}\n", result.Stdout);
    }

    [Fact]
    public async Task Copy_into_a_missing_table_fails_with_42P01_and_psql_goes_on()
    {
        var inFile = Path.Combine(_directory, "missing.txt");
        await File.WriteAllTextAsync(inFile, "1\tx\n");
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAtq", "-v", "VERBOSITY=verbose"], $"""
            \copy psql_copy_missing from '{inFile}'
            select 'still here';
            begin;
            \copy psql_copy_missing from '{inFile}'
            select 'in aborted transaction';
            rollback;
            select 'after rollback';
            """);
        Assert.Contains("ERROR:  42P01: relation \"psql_copy_missing\" does not exist", result.Stderr);
        Assert.Contains("25P02", result.Stderr);
        Assert.Equal("still here\nafter rollback\n", result.Stdout);
    }

    [Fact]
    public async Task Bad_copy_data_fails_the_whole_copy_and_the_session_recovers()
    {
        var inFile = Path.Combine(_directory, "bad.txt");
        await File.WriteAllTextAsync(inFile, TextRows().Replace("5000\t", "5000x\t", StringComparison.Ordinal));
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAtq", "-v", "VERBOSITY=verbose"], $"""
            {CreateTable("psql_copy_bad")}
            \copy psql_copy_bad from '{inFile}'
            select count(*) from psql_copy_bad;
            """);
        Assert.Contains("ERROR:  22P02: invalid input syntax for type integer: \"5000x\"", result.Stderr);
        Assert.Equal("0\n", result.Stdout);
    }
}
