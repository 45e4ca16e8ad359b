using System.Text;
using Npgsql;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Copy;

/// <summary>
/// A COPY FROM STDIN cut into many engine COPYs (pieces of 4 KB here) is still one COPY to the client: all or nothing,
/// and a bad row's error is Postgres's, its CONTEXT line counted from the start of the whole COPY, compared with
/// native PostgreSQL 15 on the same data (text, CSV with a header and quoted newlines before the bad row, binary).
/// </summary>
[Collection(NativePostgresCollection.Name)]
public sealed class CopyInPiecesTests(SmallPieceServerFixture fixture, NativePostgres native) : IClassFixture<SmallPieceServerFixture>
{
    private const int Rows = 6000;
    private const int BadRow = 4321;

    public static TheoryData<string> Formats => ["text", "csv", "binary"];

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_bad_row_deep_in_a_large_copy_reports_its_line_as_PostgreSQL_15_does_and_nothing_is_loaded(string format)
    {
        var table = $"copy_bad_{format}_{Guid.NewGuid():N}"[..24];
        var ours = await FailingCopyAsync(fixture.ConnectionString + ";Pooling=false", table, format);
        var theirs = await FailingCopyAsync(native.ConnectionString(), table, format);
        Assert.Equal(theirs.SqlState, ours.SqlState);
        Assert.Equal(theirs.MessageText, ours.MessageText);
        Assert.Equal(theirs.Where, ours.Where);
        Assert.Contains("line ", ours.Where);
        await using var connection = await fixture.OpenAsync();
        await using var count = new NpgsqlCommand($"select count(*) from {table}", connection);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!); // the pieces before the bad one are rolled back too
    }

    private static async Task<PostgresException> FailingCopyAsync(string connectionString, string table, string format)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"create table {table} (id int, v text)", connection))
            await create.ExecuteNonQueryAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            if (format == "binary")
            {
                await using var import = await connection.BeginBinaryImportAsync($"copy {table} from stdin (format binary)");
                for (var i = 1; i <= Rows; i++)
                {
                    await import.StartRowAsync();
                    if (i == BadRow)
                        await import.WriteAsync((short)i, NpgsqlDbType.Smallint); // two bytes for an int4 field
                    else
                        await import.WriteAsync(i, NpgsqlDbType.Integer);
                    await import.WriteAsync($"row {i}", NpgsqlDbType.Text);
                }
                await import.CompleteAsync();
                return;
            }
            var csv = format == "csv";
            await using var writer = await connection.BeginTextImportAsync($"copy {table} from stdin" + (csv ? " (format csv, header)" : ""));
            if (csv)
                await writer.WriteAsync("id,v\n");
            for (var i = 1; i <= Rows; i++)
            {
                var id = i == BadRow ? "x" : i.ToString();
                await writer.WriteAsync(csv
                    ? $"{id},\"quoted\nnewline {i}, \"\"q\"\"\"\n"
                    : $"{id}\trow {i} with a tab\\t and a newline\\n\n");
            }
        });
        return error;
    }

    [Fact]
    public async Task Rows_cut_into_pieces_land_whole_and_in_order_inside_a_transaction_block_too()
    {
        var table = $"copy_whole_{Guid.NewGuid():N}"[..24];
        await using var connection = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand($"create table {table} (id int, v text)", connection))
            await create.ExecuteNonQueryAsync();
        var expected = new StringBuilder();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var writer = await connection.BeginTextImportAsync($"copy {table} from stdin (format csv)"))
            {
                for (var i = 1; i <= Rows; i++)
                {
                    var value = $"a \"\"quoted\"\"\nvalue, {i}";
                    expected.Append(value.Replace("\"\"", "\"")).Append('|');
                    await writer.WriteAsync($"{i},\"{value}\"\n");
                }
            }
            await using var inside = new NpgsqlCommand($"select count(*) from {table}", connection, transaction);
            Assert.Equal((long)Rows, (long)(await inside.ExecuteScalarAsync())!);
            await transaction.CommitAsync();
        }
        await using var check = new NpgsqlCommand($"select string_agg(v, '|' order by id) || '|' from {table}", connection);
        Assert.Equal(expected.ToString(), (string)(await check.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_failed_copy_inside_a_transaction_block_aborts_it()
    {
        var table = $"copy_txfail_{Guid.NewGuid():N}"[..24];
        await using var connection = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand($"create table {table} (id int)", connection))
            await create.ExecuteNonQueryAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand($"insert into {table} values (-1)", connection, transaction))
            await insert.ExecuteNonQueryAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var writer = await connection.BeginTextImportAsync($"copy {table} from stdin");
            for (var i = 1; i <= Rows; i++)
                await writer.WriteAsync(i == Rows ? "oops\n" : $"{i}\n");
        });
        Assert.Equal("22P02", error.SqlState);
        Assert.Equal($"COPY {table}, line {Rows}, column id: \"oops\"", error.Where);
        await using (var next = new NpgsqlCommand("select 1", connection, transaction))
            Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteScalarAsync())).SqlState);
        await transaction.RollbackAsync();
        await using var count = new NpgsqlCommand($"select count(*) from {table}", connection);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }
}
