using System.Net;
using System.Net.Sockets;

namespace ZeroPg.Cli;

/// <summary>
/// A busy port is reported in one line before the engine starts (seconds of work otherwise wasted,
/// and the listener's own error calls the Postgres port "http" or is a stack trace in a log line).
/// </summary>
internal static class PortCheck
{
    /// <summary>Null when the Postgres port can be bound (or is 0), else the one line to print.</summary>
    public static string? Busy(string host, int port)
        => Probe(host, port, $"port {port} on {host} is already in use (another Postgres or zeropg?); pick another with -p/--port or PGPORT, or -p 0 for a free one");

    /// <summary>Null when the --http-port can be bound (or is 0), else the one line to print.</summary>
    public static string? HttpBusy(string host, int port)
        => Probe(host, port, $"HTTP port {port} on {host} (--http-port) is already in use; pick another with --http-port, or --http-port 0 for a free one");

    private static string? Probe(string host, int port, string inUse)
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
                return $"zeropg: {inUse}";
            }
            catch (SocketException error)
            {
                return $"zeropg: cannot listen on {host}:{port}: {error.Message}";
            }
        }
        return null;
    }
}
