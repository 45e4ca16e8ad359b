using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Platform;

/// <summary>
/// A temporary directory too deep for a Unix socket (sun_path holds 107 bytes on Linux, 103 on macOS, where the usual $TMPDIR
/// leaves too little room): the engine's cancel channel moves to a loopback port with a secret, and a statement_timeout
/// still stops a pg_sleep. Before, the server started but the timeout was silently gone (the host could not listen).
/// </summary>
public sealed class LongTempPathTests
{
    [Theory]
    [InlineData("shared")]
    [InlineData("process")]
    public async Task With_a_200_character_tmpdir_the_server_serves_and_a_statement_timeout_stops_pg_sleep(string engineHost)
    {
        using var directory = new TempDirectory();
        var temp = directory.Path.TrimEnd('/') + "/" + new string('t', 200 - directory.Path.TrimEnd('/').Length - 1);
        Directory.CreateDirectory(temp);
        Assert.Equal(200, temp.Length);
        await using var cli = await CliProcess.StartReadyAsync(new Dictionary<string, string> { ["TMPDIR"] = temp },
            "--port", "0", "--engine-host", engineHost);
        await using var connection = new NpgsqlConnection(cli.ConnectionString);
        await connection.OpenAsync();
        await using (var set = new NpgsqlCommand("set statement_timeout = '500ms'", connection))
            await set.ExecuteNonQueryAsync();
        var clock = Stopwatch.StartNew();
        await using var sleep = new NpgsqlCommand("select pg_sleep(60)", connection) { CommandTimeout = 0 };
        var error = await Assert.ThrowsAsync<PostgresException>(() => sleep.ExecuteNonQueryAsync());
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("statement timeout", error.MessageText, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the timeout took {clock.Elapsed}");
        await using (var after = new NpgsqlCommand("select 41 + 1", connection))
            Assert.Equal(42, await after.ExecuteScalarAsync());
        // The secret never shows on a command line: no file in the temp folder either (no socket was made there).
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp, "zeropg-cancel-*"));
    }
}
