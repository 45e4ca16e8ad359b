using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Security;

/// <summary>TLS after SSLRequest and direct TLS, verified against the server's certificate by real clients.</summary>
[Collection(SecuredServerCollection.Name)]
public sealed class TlsTests(SecuredServerFixture fixture)
{
    [Fact]
    public async Task Npgsql_verifies_the_certificate_and_binds_scram_to_the_connection()
    {
        var extra = $"SSL Mode=VerifyFull;Root Certificate={fixture.CertificateFile};Channel Binding=Require";
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(fixture.ConnectionString(extra: extra)) { Host = "localhost" }.ConnectionString);
        await connection.OpenAsync();
        Assert.Equal("postgres", await connection.TextAsync("select current_user"));
    }

    [Fact]
    public async Task Npgsql_direct_tls_negotiation_works()
    {
        var extra = $"SSL Mode=VerifyFull;Root Certificate={fixture.CertificateFile};SSL Negotiation=Direct";
        await using var connection = await fixture.OpenAsync(extra: extra);
        Assert.Equal("1", await connection.TextAsync("select 1"));
    }

    /// <summary>Npgsql sends its CancelRequest over TLS too; the server closes that connection before the cancel acts.</summary>
    [Fact]
    public async Task A_cancel_over_tls_stops_the_running_statement_and_the_connection_goes_on()
    {
        var extra = $"SSL Mode=VerifyCA;Root Certificate={fixture.CertificateFile}";
        await using var connection = await fixture.OpenAsync(extra: extra);
        await using var sleep = new NpgsqlCommand("select pg_sleep(30)", connection);
        var running = sleep.ExecuteNonQueryAsync();
        await EngineProbe.RunningAsync(fixture.Server);
        sleep.Cancel();
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("57014", Assert.IsType<PostgresException>(cancelled.InnerException).SqlState);
        Assert.Equal("2", await connection.TextAsync("select 2"));
    }

    [Fact]
    public async Task A_pooled_tls_data_source_serves_many_commands()
    {
        var builder = new NpgsqlDataSourceBuilder(fixture.ConnectionString(extra: $"SSL Mode=VerifyCA;Root Certificate={fixture.CertificateFile};Pooling=true;Maximum Pool Size=4"));
        await using var dataSource = builder.Build();
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            await using var command = dataSource.CreateCommand($"select {i} * 2");
            return Convert.ToInt32(await command.ExecuteScalarAsync());
        }));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => i * 2), results);
    }

    [Fact]
    public async Task Psql_verify_full_reports_an_ssl_connection()
    {
        var url = $"postgresql://postgres@localhost:{fixture.Server.Port}/postgres";
        var result = await ExternalTool.RunAsync("psql", [url, "-Xc", "\\conninfo"], environment: fixture.PsqlEnvironment(sslMode: "verify-full"));
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("SSL connection (protocol: TLSv1.", result.Stdout);
        Assert.Contains("as user \"postgres\"", result.Stdout);
    }

    [Fact]
    public async Task Node_postgres_connects_over_verified_tls_with_scram()
    {
        var script = Path.Combine(RepoPaths.NodeTests, "tls-scram.mjs");
        var result = await ExternalTool.RunAsync("node", [script, fixture.Server.Port.ToString(), fixture.CertificateFile, SecuredServerFixture.Password], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("\"user\":\"postgres\",\"tls\":true", result.Stdout);
        Assert.Contains("\"wrongPassword\":\"28P01\"", result.Stdout);
    }

    [Fact]
    public async Task Unencrypted_bytes_sent_after_ssl_request_are_refused()
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync("127.0.0.1", fixture.Server.Port);
        var stream = socket.GetStream();
        // SSLRequest immediately followed by a plaintext startup packet, before the server's answer: a MITM's trick.
        byte[] sslRequest = [0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F];
        byte[] startup = [0, 0, 0, 9, 0, 3, 0, 0, 0];
        await stream.WriteAsync(sslRequest.Concat(startup).ToArray());
        var reply = new byte[512];
        var read = 0;
        while (read < reply.Length && await stream.ReadAsync(reply.AsMemory(read)) is var n and > 0)
            read += n;
        var text = System.Text.Encoding.UTF8.GetString(reply, 0, read);
        Assert.Equal((byte)'E', reply[0]);
        Assert.Contains("received unencrypted data after SSL request", text);
    }
}
