using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public class ErrorRecoveryTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("select 1/0", "22012")]
    [InlineData("select * from error_no_such_table", "42P01")]
    [InlineData("selec 1", "42601")]
    [InlineData("select 'abc'::int", "22P02")]
    [InlineData("select no_such_column from pg_class", "42703")]
    public async Task A_sql_error_has_its_sqlstate_and_the_connection_stays_usable(string sql, string sqlState)
    {
        await using var connection = await fixture.OpenAsync();
        for (var round = 0; round < 2; round++)
        {
            await using var failing = new NpgsqlCommand(sql, connection);
            var error = await Assert.ThrowsAsync<PostgresException>(() => failing.ExecuteNonQueryAsync());
            Assert.Equal(sqlState, error.SqlState);
            Assert.Equal("ERROR", error.Severity);
            await using var next = new NpgsqlCommand("select 42", connection);
            Assert.Equal(42, await next.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task An_error_with_parameters_in_the_extended_protocol_leaves_the_connection_usable()
    {
        await using var connection = await fixture.OpenAsync();
        await using var failing = new NpgsqlCommand("select 10 / $1", connection);
        failing.Parameters.AddWithValue(0);
        Assert.Equal("22012", (await Assert.ThrowsAsync<PostgresException>(() => failing.ExecuteScalarAsync())).SqlState);
        failing.Parameters[0].Value = 5;
        Assert.Equal(2, await failing.ExecuteScalarAsync());
    }

    [Fact]
    public async Task An_error_in_a_transaction_aborts_it_until_rollback()
    {
        await using var connection = await fixture.OpenAsync();
        await Execute(connection, "create table error_tx (id int)");
        await using var transaction = await connection.BeginTransactionAsync();
        await Execute(connection, "insert into error_tx values (1)");
        Assert.Equal("22012", (await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "select 1/0"))).SqlState);
        for (var i = 0; i < 2; i++)
            Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "select 1"))).SqlState);
        await transaction.RollbackAsync();
        await using var count = new NpgsqlCommand("select count(*) from error_tx", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Psql_sees_an_aborted_transaction_and_recovers_after_rollback()
    {
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-v", "VERBOSITY=verbose"], """
            create table error_psql (id int);
            begin;
            insert into error_psql values (1);
            select 1/0;
            select 'after error';
            rollback;
            select count(*) from error_psql;
            """);
        Assert.Contains("ERROR:  22012: division by zero", result.Stderr);
        Assert.Contains("ERROR:  25P02: current transaction is aborted", result.Stderr);
        Assert.DoesNotContain("after error", result.Stdout);
        Assert.EndsWith("ROLLBACK\n0\n", result.Stdout.Replace("CREATE TABLE\nBEGIN\nINSERT 0 1\n", ""));
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
