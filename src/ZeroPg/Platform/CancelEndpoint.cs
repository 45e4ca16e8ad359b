using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ZeroPg.Platform;

/// <summary>
/// Where an engine host's cancel listener (engine-host/cancel-listener.mjs) listens and how the server reaches it: a Unix
/// socket where its path fits the platform's limit (<see cref="UnixSocketCancelEndpoint"/>), else a TCP port on the loopback
/// the host picks, which answers only a connection that first sends a secret (<see cref="LoopbackCancelEndpoint"/>).
/// </summary>
internal abstract class CancelEndpoint
{
    /// <summary>What the host is told to listen on (its start options' <c>cancelSocket</c>): a socket path, or <c>tcp</c>.</summary>
    public abstract string HostAddress { get; }

    /// <summary>The secret the server sends first (hex, to the host through its private channel or environment), or null.</summary>
    public virtual string? Secret => null;

    /// <summary>Connects to the listener; <paramref name="port"/> is the loopback port the host reported (ready frame's <c>cancelPort</c>).</summary>
    public abstract Task<Socket> ConnectAsync(int? port, CancellationToken cancellationToken);

    /// <summary>Removes what the endpoint left on disk (a socket file), if anything.</summary>
    public virtual void Remove()
    {
    }
}

/// <summary>A Unix domain socket at <see cref="Path"/> (the host creates it; the server removes it once connected).</summary>
internal sealed class UnixSocketCancelEndpoint(string path) : CancelEndpoint
{
    public string Path { get; } = path;

    public override string HostAddress => Path;

    public override async Task<Socket> ConnectAsync(int? port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path), cancellationToken);
            Remove(); // the host serves one connection, ours: the name is no longer needed
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public override void Remove()
    {
        try
        {
            File.Delete(Path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// The longest path a Unix socket may have, in bytes without the terminating NUL: sockaddr_un's sun_path is 108 bytes on
    /// Linux and 104 on macOS and the BSDs.
    /// </summary>
    public static int MaxPathBytes(OsFamily os) => os == OsFamily.Linux ? 107 : 103;

    /// <summary>True when <paramref name="path"/> fits <see cref="MaxPathBytes"/>.</summary>
    public static bool Fits(string path, OsFamily os) => Encoding.UTF8.GetByteCount(path) <= MaxPathBytes(os);
}

/// <summary>
/// A TCP port on 127.0.0.1 the host picks (port 0) and reports in its ready frame. Any local user may connect to a loopback
/// port, so the host serves only the connection whose first bytes are <see cref="SecretBytes"/> (32 random bytes, given to
/// the host in its environment or the shared host's stdin, never on a command line) and closes the others.
/// </summary>
internal sealed class LoopbackCancelEndpoint : CancelEndpoint
{
    public const string Address = "tcp";
    public const int SecretLength = 32;

    public LoopbackCancelEndpoint() => SecretBytes = Security.OsRandom.GetBytes(SecretLength);

    public byte[] SecretBytes { get; }

    public override string HostAddress => Address;

    public override string Secret => Convert.ToHexStringLower(SecretBytes);

    public override async Task<Socket> ConnectAsync(int? port, CancellationToken cancellationToken)
    {
        if (port is not (> 0 and <= IPEndPoint.MaxPort))
            throw new InvalidOperationException("the engine host did not report its cancel port");
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port.Value), cancellationToken);
            await socket.SendAsync(SecretBytes, SocketFlags.None, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
