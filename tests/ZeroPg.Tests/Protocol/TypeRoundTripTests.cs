using System.Numerics;
using Npgsql;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Protocol;

/// <summary>Parameters and results of many types through the extended protocol, in binary (Npgsql's default) and text.</summary>
[Collection(ServerCollection.Name)]
public sealed class TypeRoundTripTests(ServerFixture fixture)
{
    private static readonly Guid Uuid = Guid.Parse("6f1c7a2e-0b5d-4c1e-9a3f-2d8e4b7c9a01");
    private static readonly DateTime Timestamp = new(2024, 2, 29, 23, 59, 58, 123, 456, DateTimeKind.Utc);
    private const string BigNumeric = "123456789012345678901234567890.123456789012345678901234567890";

    /// <summary>pg type, a .NET value sent as a binary parameter, and Postgres's text output of it (TimeZone UTC).</summary>
    public static TheoryData<string, object, string> Values => new()
    {
        { "uuid", Uuid, "6f1c7a2e-0b5d-4c1e-9a3f-2d8e4b7c9a01" },
        { "timestamptz", Timestamp, "2024-02-29 23:59:58.123456+00" },
        { "numeric", decimal.Parse("-79228162514264337593543950.335", System.Globalization.CultureInfo.InvariantCulture), "-79228162514264337593543950.335" },
        { "bigint[]", new long[] { long.MinValue, 0, long.MaxValue }, "{-9223372036854775808,0,9223372036854775807}" },
        { "integer[]", new[] { 1, -2, 3 }, "{1,-2,3}" },
        { "text[]", new[] { "a", "with space", "quote\"", "comma,", "" }, "{a,\"with space\",\"quote\\\"\",\"comma,\",\"\"}" },
        { "boolean", true, "t" },
        { "double precision", 1.5e300, "1.5e+300" },
        { "date", new DateOnly(1999, 12, 31), "1999-12-31" },
        { "interval", new TimeSpan(3, 4, 5, 6, 789), "3 days 04:05:06.789" },
        { "text", "héllo wörld ✓ \t tab", "héllo wörld ✓ \t tab" },
        { "bigint", long.MaxValue, "9223372036854775807" },
        { "bytea", new byte[] { 0, 1, 0xFE, 0xFF }, "\\x0001feff" },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Binary_parameters_round_trip_as_binary_and_text_results(string type, object value, string text)
    {
        await using var connection = await fixture.OpenAsync("Timezone=UTC");
        await using var command = new NpgsqlCommand($"select $1::{type}", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = value });
        var result = await command.ExecuteScalarAsync();
        Assert.Equal(value, result is DateTime dt ? dt.ToUniversalTime() : result);
        command.AllResultTypesAreUnknown = true;
        Assert.Equal(text, await command.ExecuteScalarAsync());
    }

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Text_parameters_round_trip_as_text_results(string type, object value, string text)
    {
        _ = value;
        await using var connection = await fixture.OpenAsync("Timezone=UTC");
        // Unknown-typed parameters go out in text format; AllResultTypesAreUnknown asks for text results.
        await using var command = new NpgsqlCommand($"select $1::{type}", connection) { AllResultTypesAreUnknown = true };
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Unknown, Value = text });
        Assert.Equal(text, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Big_precision_numeric_round_trips()
    {
        await using var connection = await fixture.OpenAsync();
        var big = BigInteger.Parse("123456789012345678901234567890123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture);
        await using var command = new NpgsqlCommand("select $1::numeric, $2::numeric::text, ($2::numeric * 2)::text", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = big });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Unknown, Value = BigNumeric });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(big, reader.GetFieldValue<BigInteger>(0));
        Assert.Equal(BigNumeric, reader.GetFieldValue<string>(1));
        Assert.Equal("246913578024691357802469135780.246913578024691357802469135780", reader.GetFieldValue<string>(2));
    }

    [Fact]
    public async Task Jsonb_round_trips_normalised()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select $1::jsonb, $1::jsonb ->> 'b', jsonb_typeof($1::jsonb -> 'a')", connection);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = """{"b":"ünï", "a":[1,2.50,null,true]}""" });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("""{"a": [1, 2.50, null, true], "b": "ünï"}""", reader.GetString(0));
        Assert.Equal("ünï", reader.GetString(1));
        Assert.Equal("array", reader.GetString(2));
    }

    [Fact]
    public async Task A_one_megabyte_bytea_round_trips_in_binary_and_text()
    {
        var bytes = new byte[1024 * 1024];
        new Random(42).NextBytes(bytes);
        await using var connection = await fixture.OpenAsync();
        await using var create = new NpgsqlCommand("create table types_bytea (id int, b bytea)", connection);
        await create.ExecuteNonQueryAsync();
        await using var insert = new NpgsqlCommand("insert into types_bytea values (1, $1)", connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = bytes });
        await insert.ExecuteNonQueryAsync();

        await using var binary = new NpgsqlCommand("select b, length(b), md5(b) from types_bytea", connection);
        await using (var reader = await binary.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(bytes, reader.GetFieldValue<byte[]>(0));
            Assert.Equal(bytes.Length, reader.GetInt32(1));
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes)), reader.GetString(2));
        }
        await using var text = new NpgsqlCommand("select b from types_bytea", connection) { AllResultTypesAreUnknown = true };
        Assert.Equal("\\x" + Convert.ToHexStringLower(bytes), await text.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_row_of_every_type_and_a_row_of_nulls_round_trip_through_a_table()
    {
        await using var connection = await fixture.OpenAsync("Timezone=UTC");
        await using (var create = new NpgsqlCommand("""
            create table types_all (id int primary key, u uuid, j jsonb, ts timestamptz, n numeric, b bytea,
              ia int[], ba bigint[], ta text[], f bool, d float8, dt date, iv interval)
            """, connection))
            await create.ExecuteNonQueryAsync();
        await using (var insert = new NpgsqlCommand("insert into types_all values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)", connection))
        {
            object[] values = [1, Uuid, "{\"k\": \"v\"}", Timestamp, 12.345m, new byte[] { 1, 2 }, new[] { 1, 2 },
                new[] { 3L, 4L }, new[] { "x", "y" }, false, -0.25, new DateOnly(2000, 1, 1), TimeSpan.FromMinutes(90)];
            foreach (var value in values)
                insert.Parameters.Add(new NpgsqlParameter { Value = value });
            insert.Parameters[2].NpgsqlDbType = NpgsqlDbType.Jsonb;
            await insert.ExecuteNonQueryAsync();
            insert.Parameters[0].Value = 2;
            for (var i = 1; i < values.Length; i++)
                insert.Parameters[i].Value = DBNull.Value;
            await insert.ExecuteNonQueryAsync();
        }

        await using var select = new NpgsqlCommand("select * from types_all order by id", connection);
        await using (var reader = await select.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(Uuid, reader.GetGuid(1));
            Assert.Equal("{\"k\": \"v\"}", reader.GetString(2));
            Assert.Equal(Timestamp, reader.GetDateTime(3).ToUniversalTime());
            Assert.Equal(12.345m, reader.GetDecimal(4));
            Assert.Equal(new byte[] { 1, 2 }, reader.GetFieldValue<byte[]>(5));
            Assert.Equal([1, 2], reader.GetFieldValue<int[]>(6));
            Assert.Equal([3L, 4L], reader.GetFieldValue<long[]>(7));
            Assert.Equal(["x", "y"], reader.GetFieldValue<string[]>(8));
            Assert.False(reader.GetBoolean(9));
            Assert.Equal(-0.25, reader.GetDouble(10));
            Assert.Equal(new DateOnly(2000, 1, 1), reader.GetFieldValue<DateOnly>(11));
            Assert.Equal(TimeSpan.FromMinutes(90), reader.GetTimeSpan(12));
            Assert.True(await reader.ReadAsync());
            for (var i = 1; i < reader.FieldCount; i++)
                Assert.True(reader.IsDBNull(i), $"column {i} of the null row");
            Assert.False(await reader.ReadAsync());
        }

        // The same rows as text results, and through psql's simple Query protocol.
        var expected = "1|6f1c7a2e-0b5d-4c1e-9a3f-2d8e4b7c9a01|{\"k\": \"v\"}|2024-02-29 23:59:58.123456+00|12.345|\\x0102|{1,2}|{3,4}|{x,y}|f|-0.25|2000-01-01|01:30:00\n"
            + "2||||||||||||\n";
        await using var text = new NpgsqlCommand("select * from types_all order by id", connection) { AllResultTypesAreUnknown = true };
        await using (var reader = await text.ExecuteReaderAsync())
        {
            var lines = "";
            while (await reader.ReadAsync())
                lines += string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : reader.GetString(i))) + "\n";
            Assert.Equal(expected, lines);
        }
        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-v", "ON_ERROR_STOP=1", "-c", "set timezone = 'UTC'", "-c", "select * from types_all order by id"]);
        Assert.True(psql.ExitCode == 0, psql.All);
        Assert.Equal("SET\n" + expected, psql.Stdout);
    }
}
