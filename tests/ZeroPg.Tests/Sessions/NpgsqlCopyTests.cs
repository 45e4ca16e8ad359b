using Npgsql;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Npgsql's COPY APIs: binary and text import/export, cancelled imports, CopyFail on the wire.</summary>
[Collection(ServerCollection.Name)]
public class NpgsqlCopyTests(ServerFixture fixture)
{
    private const int Rows = 10_000;
    private static readonly DateTime Epoch = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Binary_import_and_export_round_trip_ten_thousand_rows_of_several_types()
    {
        await using var connection = await fixture.OpenAsync();
        await Execute(connection, "create table npg_copy_bin (id bigint, name text, at timestamptz, amount numeric, data bytea, tags int[], u uuid, ok bool)");
        await using (var importer = await connection.BeginBinaryImportAsync("copy npg_copy_bin from stdin (format binary)"))
        {
            for (var i = 0; i < Rows; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync((long)i, NpgsqlDbType.Bigint);
                if (i % 10 == 0)
                    await importer.WriteNullAsync();
                else
                    await importer.WriteAsync($"name {i} ✓", NpgsqlDbType.Text);
                await importer.WriteAsync(Epoch.AddSeconds(i), NpgsqlDbType.TimestampTz);
                await importer.WriteAsync(i / 100m, NpgsqlDbType.Numeric);
                await importer.WriteAsync(BitConverter.GetBytes(i), NpgsqlDbType.Bytea);
                await importer.WriteAsync(new[] { i, -i }, NpgsqlDbType.Array | NpgsqlDbType.Integer);
                await importer.WriteAsync(Guid(i), NpgsqlDbType.Uuid);
                await importer.WriteAsync(i % 2 == 0, NpgsqlDbType.Boolean);
            }
            Assert.Equal((ulong)Rows, await importer.CompleteAsync());
        }

        var seen = 0;
        await using (var exporter = await connection.BeginBinaryExportAsync("copy (select * from npg_copy_bin order by id) to stdout (format binary)"))
        {
            while (await exporter.StartRowAsync() != -1)
            {
                var i = seen++;
                Assert.Equal(i, await exporter.ReadAsync<long>());
                if (i % 10 == 0)
                {
                    Assert.True(exporter.IsNull);
                    await exporter.SkipAsync();
                }
                else
                {
                    Assert.Equal($"name {i} ✓", await exporter.ReadAsync<string>());
                }
                Assert.Equal(Epoch.AddSeconds(i), (await exporter.ReadAsync<DateTime>()).ToUniversalTime());
                Assert.Equal(i / 100m, await exporter.ReadAsync<decimal>());
                Assert.Equal(BitConverter.GetBytes(i), await exporter.ReadAsync<byte[]>());
                Assert.Equal([i, -i], await exporter.ReadAsync<int[]>());
                Assert.Equal(Guid(i), await exporter.ReadAsync<Guid>());
                Assert.Equal(i % 2 == 0, await exporter.ReadAsync<bool>());
            }
        }
        Assert.Equal(Rows, seen);
        await using var check = new NpgsqlCommand("select count(*), count(name), sum(amount) from npg_copy_bin", connection);
        await using var reader = await check.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((long)Rows, reader.GetInt64(0));
        Assert.Equal(Rows - Rows / 10L, reader.GetInt64(1));
        Assert.Equal(499950m, reader.GetDecimal(2));
    }

    [Fact]
    public async Task Text_import_and_export_round_trip()
    {
        await using var connection = await fixture.OpenAsync();
        await Execute(connection, "create table npg_copy_text (id int, name text)");
        var expected = new System.Text.StringBuilder();
        await using (var writer = await connection.BeginTextImportAsync("copy npg_copy_text from stdin"))
        {
            for (var i = 0; i < Rows; i++)
            {
                var line = i % 9 == 0 ? $"{i}\t\\N\n" : $"{i}\tline {i} with \\t tab\n";
                expected.Append(line);
                await writer.WriteAsync(line);
            }
        }
        await using (var reader = await connection.BeginTextExportAsync("copy (select * from npg_copy_text order by id) to stdout"))
            Assert.Equal(expected.ToString(), await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task A_cancelled_binary_import_sends_CopyFail_and_leaves_nothing()
    {
        await using var connection = await fixture.OpenAsync();
        await Execute(connection, "create table npg_copy_cancel (id int)");
        await using (var importer = await connection.BeginBinaryImportAsync("copy npg_copy_cancel from stdin (format binary)"))
        {
            for (var i = 0; i < 1000; i++)
            {
                await importer.StartRowAsync();
                await importer.WriteAsync(i, NpgsqlDbType.Integer);
            }
            // Disposed without CompleteAsync: Npgsql sends CopyFail.
        }
        var writer = await connection.BeginTextImportAsync("copy npg_copy_cancel from stdin");
        await writer.WriteAsync("1\n2\n");
        await writer.CancelAsync(); // CopyFail; the writer is finished with it
        await using var count = new NpgsqlCommand("select count(*) from npg_copy_cancel", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Import_into_a_missing_table_fails_with_42P01_and_the_connection_stays_usable()
    {
        await using var connection = await fixture.OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var importer = await connection.BeginBinaryImportAsync("copy npg_copy_missing from stdin (format binary)");
        });
        Assert.Equal("42P01", error.SqlState);
        await using var select = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Import_inside_a_transaction_is_rolled_back_with_it()
    {
        await using var connection = await fixture.OpenAsync();
        await Execute(connection, "create table npg_copy_tx (id int)");
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Execute(connection, "insert into npg_copy_tx values (-1)");
            await using (var writer = await connection.BeginTextImportAsync("copy npg_copy_tx from stdin"))
                await writer.WriteAsync("1\n2\n3\n");
            await using (var count = new NpgsqlCommand("select count(*) from npg_copy_tx", connection))
                Assert.Equal(4L, await count.ExecuteScalarAsync());
            await transaction.RollbackAsync();
        }
        await using var after = new NpgsqlCommand("select count(*) from npg_copy_tx", connection);
        Assert.Equal(0L, await after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task CopyFail_on_the_wire_gets_57014_with_the_clients_reason()
    {
        await using var raw = await RawProtocolClient.ConnectAsync(fixture.Server);
        await raw.Query("create table npg_copy_fail (id int)").RoundTripAsync();
        await raw.Query("copy npg_copy_fail from stdin").FlushAsync();
        Assert.Equal('G', (await raw.ReadMessageAsync())!.Code);
        var reply = await raw.CopyData("1\n2\n").CopyFail("client gave up").RoundTripAsync();
        Assert.Equal("EZ", string.Concat(reply.Select(m => m.Code)));
        Assert.Equal("57014", reply[0].SqlState);
        Assert.Contains("client gave up", reply[0].MessageText, StringComparison.Ordinal);
        var count = (await raw.Query("select count(*) from npg_copy_fail").RoundTripAsync()).Single(m => m.Code == 'D');
        Assert.EndsWith("\u00010", count.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Copy_from_stdin_through_the_extended_protocol_takes_its_data()
    {
        await using var raw = await RawProtocolClient.ConnectAsync(fixture.Server);
        Assert.DoesNotContain(await raw.Query("create table npg_copy_extended (id int)").RoundTripAsync(), m => m.Code == 'E');
        await raw.Parse("", "copy npg_copy_extended from stdin").Bind("", "").Execute().FlushAsync();
        var started = "";
        while (!started.EndsWith('G') && !started.EndsWith('Z'))
            started += (await raw.ReadMessageAsync(TimeSpan.FromSeconds(30)))!.Code;
        Assert.Equal("12G", started);
        Assert.Equal("CZ", string.Concat((await raw.CopyData("7\n").CopyDone().Sync().RoundTripAsync()).Select(m => m.Code)));
        Assert.Equal("7", (await raw.SingleRowAsync("select sum(id) from npg_copy_extended"))[0]);
        Assert.Equal("TDCZ", string.Concat((await raw.Query("select 1").RoundTripAsync()).Select(m => m.Code)));
    }

    private static Guid Guid(int i) => new(i, 1, 2, [3, 4, 5, 6, 7, 8, 9, 10]);
}
