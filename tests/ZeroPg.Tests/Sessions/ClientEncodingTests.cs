using System.Text;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Client encodings other than UTF8 work as in Postgres: ZeroPg converts (the engine, PGlite, has none of Postgres's
/// conversion modules and always speaks UTF8). Each case runs the same psql script, written in the client's encoding,
/// against native PostgreSQL 15 and ZeroPg, and compares what psql prints byte for byte. Before, such a client was
/// refused at connect (and earlier still, it hung or killed the shared engine).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientEncodingTests(ServerFixture fixture, NativePostgres native) : IClassFixture<NativePostgres>
{
    private static readonly Encoding Bytes = Encoding.Latin1; // one char per byte: output compared as bytes

    static ClientEncodingTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    [Theory]
    [InlineData("LATIN1", 28591, "café crème, naïve Ærø ¿qué? ½ ÿ")]
    [InlineData("WIN1252", 1252, "€uro „quoted“ – dash … café")]
    [InlineData("LATIN9", 28605, "€ œuvre Šárka café")]
    [InlineData("KOI8R", 20866, "Привет, мир")]
    [InlineData("WIN1251", 1251, "Съешь же ещё этих булок")]
    [InlineData("SJIS", 932, "こんにちは世界 カタカナ")]
    [InlineData("EUC_JP", 51932, "日本語のテキスト")]
    [InlineData("BIG5", 950, "繁體中文測試")]
    [InlineData("GBK", 936, "简体中文测试")]
    [InlineData("UHC", 949, "한국어 텍스트")]
    public async Task Psql_in_a_client_encoding_prints_what_postgres_prints(string encoding, int codePage, string sample)
    {
        var table = $"enc_{encoding.ToLowerInvariant()}";
        var script = $"""
            \encoding
            show client_encoding;
            drop table if exists {table};
            create table {table} (id int, s text);
            insert into {table} values (1, '{sample}');
            copy {table} from stdin;
            2	{sample} (copy)
            \.
            select id, s, length(s), octet_length(s) as "{sample[..2]}" from {table} order by id;
            copy {table} to stdout;
            select id from {table} where s like '{sample[..2]}%' and s = any(array['{sample}', 'x']) order by id;
            select count(*) from "{sample[..3]}";
            select upper(s) from {table} where id = 1;

            """;
        var bytes = Encoding.GetEncoding(codePage).GetBytes(script);
        var onPostgres = await RunPsqlAsync(native.Url(), encoding, bytes);
        var onZeroPg = await RunPsqlAsync(fixture.Url, encoding, bytes);
        Assert.Contains(Bytes.GetString(Encoding.GetEncoding(codePage).GetBytes(sample)), onPostgres); // the reference really printed the text in its encoding
        Assert.Equal(onPostgres, onZeroPg);
    }

    [Fact]
    public async Task Set_show_and_reset_client_encoding_switch_the_conversion_as_in_postgres()
    {
        var latin1 = Encoding.GetEncoding(28591);
        var script = "create table if not exists enc_switch (s text);\ntruncate enc_switch;\n"
            + "set client_encoding to 'LATIN1';\nshow client_encoding;\ninsert into enc_switch values ('é');\nselect s, octet_length(s) from enc_switch;\n"
            + "set names 'win1252';\nshow client_encoding;\nreset client_encoding;\nshow client_encoding;\nselect s from enc_switch;\n"
            + "set client_encoding = 'no_such_encoding';\nset client_encoding to default;\n";
        // The first half is sent in LATIN1 after the SET; psql sends the file's bytes as they are.
        var bytes = latin1.GetBytes(script[..script.IndexOf("set names", StringComparison.Ordinal)])
            .Concat(Encoding.UTF8.GetBytes(script[script.IndexOf("set names", StringComparison.Ordinal)..])).ToArray();
        var onPostgres = await RunPsqlAsync(native.Url(), "UTF8", bytes);
        var onZeroPg = await RunPsqlAsync(fixture.Url, "UTF8", bytes);
        Assert.Contains("LATIN1", onPostgres);
        Assert.Contains("invalid value for parameter \"client_encoding\": \"no_such_encoding\"", onPostgres);
        Assert.Equal(onPostgres, onZeroPg);
    }

    [Fact]
    public async Task A_character_the_client_encoding_lacks_fails_the_statement_with_22P05_and_the_session_goes_on()
    {
        await using (var utf8 = await fixture.OpenAsync())
        await using (var setup = new NpgsqlCommand("create table if not exists enc_euro (s text); truncate enc_euro; insert into enc_euro values ('a'), ('€')", utf8))
            await setup.ExecuteNonQueryAsync();
        var script = "select s from enc_euro order by s;\nselect 'still served';\n"u8.ToArray();
        var psql = await RunPsqlAsync(fixture.Url, "LATIN1", script);
        Assert.Contains("ERROR:  character with byte sequence 0xe2 0x82 0xac in encoding \"UTF8\" has no equivalent in encoding \"LATIN1\"", psql);
        Assert.Contains("still served", psql);
    }

    [Fact]
    public async Task Bytes_the_client_encoding_does_not_have_are_refused_with_22021_as_postgres_does()
    {
        var script = Encoding.ASCII.GetBytes("select 'ok' as before;\nselect '").Concat(new byte[] { 0x82, 0x20 }).Concat(Encoding.ASCII.GetBytes("' as bad;\nselect 'ok' as after;\n")).ToArray();
        var onPostgres = await RunPsqlAsync(native.Url(), "SJIS", script);
        var onZeroPg = await RunPsqlAsync(fixture.Url, "SJIS", script);
        Assert.Contains("invalid byte sequence for encoding \"SJIS\": 0x82 0x20", onPostgres);
        Assert.Contains("invalid byte sequence for encoding \"SJIS\": 0x82 0x20", onZeroPg);
        Assert.Equal(onPostgres, onZeroPg);
    }

    /// <summary>Found by the fuzzer: COPY data a multi-byte encoding's decoder refuses threw while it was counted, outside the
    /// conversion's error handling, and the connection ended with no error. Postgres answers 22021 and the session goes on.</summary>
    [Theory]
    [InlineData("SJIS", 0xeb, 0x0f)]
    [InlineData("EUC_JP", 0xa4, 0x0f)]
    public async Task Copy_data_with_bytes_the_client_encoding_does_not_have_fails_with_22021_and_the_session_goes_on(string encoding, int lead, int trail)
    {
        var table = $"enc_bad_copy_{encoding.ToLowerInvariant()}";
        var script = Encoding.ASCII.GetBytes($"drop table if exists {table};\ncreate table {table} (s text);\ncopy {table} from stdin;\nx")
            .Concat(new[] { (byte)lead, (byte)trail })
            .Concat(Encoding.ASCII.GetBytes($"y\n\\.\nselect count(*) as after from {table};\n")).ToArray();
        var onPostgres = await RunPsqlAsync(native.Url(), encoding, script);
        var onZeroPg = await RunPsqlAsync(fixture.Url, encoding, script);
        var error = $"invalid byte sequence for encoding \"{encoding}\": 0x{lead:x2} 0x{trail:x2}";
        Assert.Contains(error, onPostgres);
        Assert.Contains(error, onZeroPg);
        // What psql printed on stdout (the count after the failed COPY) is the same; stderr's CONTEXT line is Postgres's alone,
        // since ZeroPg converts the data before the engine reads it.
        Assert.Contains(" after \n-------\n     0\n(1 row)", onZeroPg);
        Assert.Equal(onPostgres.Split("--- stderr ---")[0], onZeroPg.Split("--- stderr ---")[0]);
        await AssertServesWithoutRestartAsync();
    }

    [Fact]
    public async Task Npgsql_with_a_client_encoding_round_trips_parameters_and_results_in_the_extended_protocol()
    {
        const string text = "€uro „quoted“ café";
        foreach (var connectionString in new[] { native.ConnectionString(), fixture.ConnectionString })
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { ClientEncoding = "WIN1252", Encoding = "windows-1252", Pooling = false };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            await using (var create = new NpgsqlCommand("create table if not exists enc_npgsql (id int, s text, v varchar(40)); truncate enc_npgsql", connection))
                await create.ExecuteNonQueryAsync();
            await using (var insert = new NpgsqlCommand("insert into enc_npgsql values (1, $1, $1)", connection))
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = text });
                await insert.ExecuteNonQueryAsync();
            }
            await using var select = new NpgsqlCommand("select s, v, octet_length(s), s = $1 from enc_npgsql where id = 1", connection);
            select.Parameters.Add(new NpgsqlParameter { Value = text });
            for (var run = 0; run < 2; run++)
            {
                if (run == 1)
                    await select.PrepareAsync(); // prepared: binary results without a Describe in the reply
                await using var reader = await select.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.Equal(text, reader.GetString(0));
                Assert.Equal(text, reader.GetString(1));
                Assert.Equal(Encoding.UTF8.GetByteCount(text), reader.GetInt32(2)); // stored as UTF8
                Assert.True(reader.GetBoolean(3));
            }
        }
    }

    [Theory]
    [InlineData("LATIN6")] // Postgres has it; .NET has no table for ISO 8859-10
    [InlineData("no_such_encoding")]
    public async Task A_client_starting_with_an_encoding_ZeroPg_cannot_convert_is_refused_and_nobody_else_is_touched(string encoding)
    {
        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", "select 1"], timeout: TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string> { ["PGCLIENTENCODING"] = encoding });
        Assert.NotEqual(0, psql.ExitCode);
        Assert.Contains($"invalid value for parameter \"client_encoding\": \"{encoding}\"", psql.All);
        await AssertServesWithoutRestartAsync();
    }

    [Theory]
    [InlineData("UTF8")]
    [InlineData("utf-8")]
    [InlineData("SQL_ASCII")]
    public async Task A_client_starting_with_utf8_or_sql_ascii_is_served(string encoding)
    {
        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", "select 'served'"], timeout: TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string> { ["PGCLIENTENCODING"] = encoding });
        Assert.True(psql.ExitCode == 0, psql.All);
        Assert.Equal("served", psql.Stdout.Trim());
    }

    [Theory]
    [InlineData("select set_config('client_encoding', 'LATIN1', false)", "0A000")] // the engine's: "Conversion between LATIN1 and UTF8 is not supported."
    [InlineData("select convert_to('é', 'LATIN1')", "42883")]
    [InlineData("select convert_from('\\xe9'::bytea, 'WIN1252')", "42883")]
    public async Task Sql_that_needs_a_conversion_inside_the_engine_fails_like_postgres_without_it_and_the_engine_lives(string sql, string sqlState)
    {
        var restarts = fixture.Server.Metrics.EngineRestarts();
        await using var connection = await fixture.OpenAsync();
        await using (var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 30 })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
            Assert.Equal(sqlState, error.SqlState);
        }
        await using (var again = new NpgsqlCommand("select 'still usable'", connection))
            Assert.Equal("still usable", await again.ExecuteScalarAsync());
        Assert.Equal(restarts, fixture.Server.Metrics.EngineRestarts());
    }

    /// <summary>psql -f of <paramref name="script"/> in <paramref name="encoding"/>: stdout and stderr, each byte one char.</summary>
    private static async Task<string> RunPsqlAsync(string url, string encoding, byte[] script)
    {
        var file = Path.Combine(Path.GetTempPath(), $"zeropg-enc-{Guid.NewGuid():N}.sql");
        await File.WriteAllBytesAsync(file, script);
        try
        {
            var psql = await ExternalTool.RunAsync("psql", [url, "-X", "-f", file], timeout: TimeSpan.FromSeconds(60),
                environment: new Dictionary<string, string> { ["PGCLIENTENCODING"] = encoding }, outputEncoding: Bytes);
            return psql.Stdout + "\n--- stderr ---\n" + psql.Stderr.Replace(file, "script.sql", StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task AssertServesWithoutRestartAsync()
    {
        var restarts = fixture.Server.Metrics.EngineRestarts();
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'still up'", connection) { CommandTimeout = 30 };
        Assert.Equal("still up", await command.ExecuteScalarAsync());
        Assert.Equal(restarts, fixture.Server.Metrics.EngineRestarts());
    }

    /// <summary>Found by the fuzzer: a malformed message from a client whose encoding ZeroPg converts threw inside the
    /// conversion and ended the connection with no error. It must get the same protocol error as in UTF8.</summary>
    [Theory]
    [InlineData('D', new byte[] { 0 })]                                 // Describe with only a NUL: no subtype and name
    [InlineData('C', new byte[] { 0 })]                                 // Close likewise
    [InlineData('B', new byte[] { 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1 })] // Bind whose parameter length points past the message
    [InlineData('E', new byte[] { 0, 0, 0 })]                           // Execute cut inside its row count
    [InlineData('P', new byte[] { 0, 0, 0, 5, 0 })]                    // Parse whose type count exceeds what follows
    public async Task A_malformed_message_gets_the_same_protocol_error_in_a_converted_encoding_as_in_utf8(char code, byte[] body)
    {
        async Task<string?> ErrorAsync(string encoding)
        {
            await using var client = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server);
            await client.Bytes(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres", "database", "postgres",
                "client_encoding", encoding)).FlushAsync();
            await client.ReadUntilReadyAsync();
            await client.Bytes(RawProtocolClient.TypedMessage(code, body)).Sync().FlushAsync();
            var replies = new List<RawProtocolClient.Message>();
            while (await client.ReadMessageAsync(TimeSpan.FromSeconds(30)) is { } message)
            {
                replies.Add(message);
                if (message.Code == 'Z')
                    break;
            }
            return replies.FirstOrDefault(m => m.Code == 'E')?.SqlState;
        }

        var utf8 = await ErrorAsync("UTF8");
        Assert.NotNull(utf8);
        Assert.Equal(utf8, await ErrorAsync("LATIN1"));
    }
}
