using System.Buffers.Binary;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Postgres's authentication_timeout: a connection that never completes its startup is closed, the server keeps serving.</summary>
public sealed class AuthenticationTimeoutTests : IAsyncLifetime
{
    private ZeroPgServer _server = null!;

    public async Task InitializeAsync()
        => _server = await ZeroPgServer.StartAsync(new ZeroPgOptions { AuthenticationTimeout = TimeSpan.FromSeconds(1) }, TestLogging.Factory);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, byte[]> Stalls => new()
    {
        { "a silent socket", [] },
        { "half a length word", [0, 0] },
        { "half a startup packet", [.. Length(40), 0, 3, 0, 0, (byte)'u', (byte)'s'] },
    };

    [Theory]
    [MemberData(nameof(Stalls))]
    public async Task A_connection_that_stalls_in_its_startup_is_closed(string what, byte[] sent)
    {
        await using var raw = await RawProtocolClient.ConnectWithoutStartupAsync(_server);
        await raw.Bytes(sent).FlushAsync();
        // Read until the server closes: within the 1 s timeout plus slack, else the read's own 15 s limit fails the test.
        var reply = await raw.ReadUntilClosedAsync(TimeSpan.FromSeconds(15));
        Assert.Empty(reply); // Postgres closes without a message too
        Assert.True(_server.Metrics.StartupTimeouts >= 1, what);

        await using var connection = new NpgsqlConnection(_server.GetConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 'served'", connection);
        Assert.Equal("served", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_session_that_started_in_time_is_not_closed_by_the_timeout()
    {
        await using var connection = new NpgsqlConnection(_server.GetConnectionString());
        await connection.OpenAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the startup deadline: the point is that nothing happens
        await using var command = new NpgsqlCommand("select 'still here'", connection);
        Assert.Equal("still here", await command.ExecuteScalarAsync());
    }

    private static byte[] Length(int length)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, length);
        return bytes;
    }
}
