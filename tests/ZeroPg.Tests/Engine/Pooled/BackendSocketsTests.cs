using System.Net.Sockets;
using System.Security.Cryptography;
using ZeroPg.Engine.Pooled;
using ZeroPg.Platform.Linux;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// A backend's connection as the pool gets it (on Linux over ZeroPg's own epoll, <see cref="EpollSocketStream"/>), against a plain
/// socket peer: bytes beyond the sockets' buffers both ways, a read's cancel, a close under a waiting read, the peer's end.
/// </summary>
public sealed class BackendSocketsTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"zp-bs-{Guid.NewGuid():N}"[..20]);
    private Socket _listener = null!;
    private Stream _stream = null!;
    private Socket _peer = null!;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2)); // a hang fails instead of stalling the run

    public async Task InitializeAsync()
    {
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(_path));
        _listener.Listen();
        var accept = _listener.AcceptAsync();
        _stream = await BackendSockets.ConnectAsync(new UnixDomainSocketEndPoint(_path), OperatingSystem.IsLinux() ? EpollSockets.Instance : null, _timeout.Token);
        _peer = await accept;
    }

    public async Task DisposeAsync()
    {
        await _stream.DisposeAsync();
        _peer.Dispose();
        _listener.Dispose();
        File.Delete(_path);
        _timeout.Dispose();
    }

    [Fact]
    public void On_Linux_the_pool_reads_its_backends_through_its_own_epoll()
    {
        Assert.Equal(OperatingSystem.IsLinux(), _stream is EpollSocketStream);
    }

    [Fact]
    public async Task Sixteen_megabytes_go_each_way_whole_and_in_order()
    {
        var data = RandomNumberGenerator.GetBytes(16 << 20);
        var token = _timeout.Token;

        var write = _stream.WriteAsync(data, token).AsTask(); // far more than the sockets hold: it waits for room
        var received = new byte[data.Length];
        var total = 0;
        while (total < received.Length)
            total += await _peer.ReceiveAsync(received.AsMemory(total), token);
        await write;
        Assert.True(data.AsSpan().SequenceEqual(received));

        var send = _peer.SendAsync(data, token).AsTask();
        Array.Clear(received);
        total = 0;
        while (total < received.Length)
        {
            var read = await _stream.ReadAsync(received.AsMemory(total, Math.Min(64 * 1024, received.Length - total)), token);
            Assert.True(read > 0);
            total += read;
        }
        await send;
        Assert.True(data.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public async Task A_cancelled_read_ends_with_OperationCanceledException_and_the_next_read_gets_the_bytes()
    {
        using var cancel = new CancellationTokenSource();
        var buffer = new byte[16];
        var waiting = _stream.ReadAsync(buffer, cancel.Token).AsTask();
        Assert.False(waiting.IsCompleted); // nothing sent yet
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        await _peer.SendAsync("hello"u8.ToArray(), _timeout.Token);
        var read = await _stream.ReadAsync(buffer, _timeout.Token);
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, read));
    }

    [Fact]
    public async Task The_peer_closing_ends_the_reads()
    {
        var buffer = new byte[16];
        _peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await _stream.ReadAsync(buffer, _timeout.Token));
        Assert.Equal(0, await _stream.ReadAsync(buffer, _timeout.Token));
    }

    [Fact]
    public async Task Closing_the_stream_ends_a_waiting_read()
    {
        var waiting = _stream.ReadAsync(new byte[16], _timeout.Token).AsTask();
        Assert.False(waiting.IsCompleted); // nothing sent
        await _stream.DisposeAsync();
        // A read of a closed socket: ObjectDisposedException here, as .NET's NetworkStream gives an IOException or that.
        await Assert.ThrowsAnyAsync<Exception>(() => waiting);
    }
}
