using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>COPY ... PROGRAM, which PGlite never answers (it cannot start a program), is refused with 0A000 and wedges nobody.</summary>
[Collection(ServerCollection.Name)]
public sealed class CopyProgramTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("copy (select 1) to program 'true'")]
    [InlineData("copy copy_program_t from program 'echo 1'")]
    public async Task Through_the_extended_protocol_it_fails_with_0A000_and_the_transaction_aborts_as_in_postgres(string sql)
    {
        await using var connection = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand("create table if not exists copy_program_t (a int)", connection))
            await create.ExecuteNonQueryAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var copy = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 15 })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => copy.ExecuteNonQueryAsync());
            Assert.Equal("0A000", error.SqlState);
            Assert.Contains("PROGRAM", error.MessageText);
            Assert.NotNull(error.Hint);
        }
        await using (var next = new NpgsqlCommand("select 1", connection, transaction))
            Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteScalarAsync())).SqlState);
        await transaction.RollbackAsync();
        await AssertServedAsync();
    }

    [Fact]
    public async Task As_a_simple_query_from_psql_it_fails_with_0A000_and_others_are_served()
    {
        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", "copy (select 1) to program 'true'"], timeout: TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, psql.ExitCode);
        Assert.Contains("COPY TO PROGRAM and COPY FROM PROGRAM are not supported by ZeroPg", psql.All);
        await AssertServedAsync();
    }

    private async Task AssertServedAsync()
    {
        await using var other = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'served'", other) { CommandTimeout = 15 };
        Assert.Equal("served", await command.ExecuteScalarAsync());
    }
}
