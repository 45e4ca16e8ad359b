using Npgsql;

namespace ZeroPg.Tests.Cli;

/// <summary>The limits the errors' hints name are flags of zeropg serve.</summary>
public sealed class LimitFlagsTests
{
    [Fact]
    public async Task Max_message_size_and_max_copy_bytes_set_the_limits_their_errors_name()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--max-message-size", "4096", "--max-copy-bytes", "2048");

        await using (var copying = new NpgsqlConnection(cli.ConnectionString))
        {
            await copying.OpenAsync();
            await using (var create = new NpgsqlCommand("create table limited (s text)", copying))
                await create.ExecuteNonQueryAsync();
            var copy = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var writer = await copying.BeginTextImportAsync("copy limited from stdin");
                await writer.WriteAsync(new string('x', 3000) + "\n");
            });
            Assert.Equal("54000", copy.SqlState);
            Assert.Contains("--max-copy-bytes", copy.Hint);
            await using var count = new NpgsqlCommand("select count(*) from limited", copying);
            Assert.Equal(0L, await count.ExecuteScalarAsync()); // the connection goes on; nothing was copied
        }

        await using var big = new NpgsqlConnection(cli.ConnectionString);
        await big.OpenAsync();
        await using var query = new NpgsqlCommand($"select '{new string('y', 5000)}'", big);
        var error = await Assert.ThrowsAsync<PostgresException>(() => query.ExecuteScalarAsync());
        Assert.Equal("54000", error.SqlState);
        Assert.Contains("--max-message-size", error.Hint);
    }
}
