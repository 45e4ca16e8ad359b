using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Copy;

/// <summary>
/// The example at its size, with the default pieces (50,000 lines): a bad row on line 1,234,567 of a COPY of
/// 1.3 million lines, loaded as 25 engine COPYs, is reported on that line, as PostgreSQL 15 reports it, and nothing loads.
/// </summary>
[Collection(NativePostgresCollection.Name)]
public sealed class LargeCopyErrorLineTests(ServerFixture fixture, NativePostgres native) : IClassFixture<ServerFixture>
{
    private const int Lines = 1_300_000;
    private const int BadLine = 1_234_567;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_bad_row_on_line_1234567_reports_that_line_as_PostgreSQL_15_does()
    {
        var table = $"copy_line_{Guid.NewGuid():N}"[..24];
        var ours = await FailingCopyAsync(fixture.ConnectionString + ";Pooling=false;Command Timeout=600", table);
        var theirs = await FailingCopyAsync(native.ConnectionString(), table);
        Assert.Equal($"COPY {table}, line {BadLine}, column id: \"x\"", theirs.Where);
        Assert.Equal(theirs.SqlState, ours.SqlState);
        Assert.Equal(theirs.MessageText, ours.MessageText);
        Assert.Equal(theirs.Where, ours.Where);
        await using var connection = await fixture.OpenAsync();
        await using var count = new NpgsqlCommand($"select count(*) from {table}", connection);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    private static async Task<PostgresException> FailingCopyAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand($"create table {table} (id int, v text)", connection))
            await create.ExecuteNonQueryAsync();
        return await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var writer = await connection.BeginTextImportAsync($"copy {table} from stdin");
            for (var i = 1; i <= Lines; i++)
                await writer.WriteAsync(i == BadLine ? "x\tbad\n" : $"{i}\tv\n");
        });
    }
}
