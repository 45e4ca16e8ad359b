using System.Net;
using System.Net.Sockets;

namespace ZeroPg.Cli;

/// <summary>
/// A busy port is reported in one line before the engine starts (seconds of work otherwise wasted,
/// and the listener's own error calls the Postgres port "http").
/// </summary>
internal static class PortCheck
{
    /// <summary>Null when the port can be bound (or is 0), else the one line to print.</summary>
    public static string? Busy(string host, int port)
    {
        if (port == 0)
            return null;
        var addresses = host is "localhost" ? [IPAddress.Loopback]
            : IPAddress.TryParse(host, out var parsed) ? [parsed]
            : Array.Empty<IPAddress>();
        foreach (var address in addresses)
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Bind(new IPEndPoint(address, port));
            }
            catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                return $"zeropg: port {port} on {host} is already in use (another Postgres or zeropg?); pick another with -p/--port or PGPORT, or -p 0 for a free one";
            }
            catch (SocketException error)
            {
                return $"zeropg: cannot listen on {host}:{port}: {error.Message}";
            }
        }
        return null;
    }
}
