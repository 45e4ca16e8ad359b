using System.Net;
using System.Net.Sockets;

namespace ZeroPg.Server;

/// <summary>Turns the configured host and socket path into what Kestrel binds.</summary>
internal static class ListenEndpoints
{
    public const int DefaultPort = 5432;

    public static IPAddress[] Addresses(string host)
    {
        if (host is "*" or "0.0.0.0")
            return [IPAddress.Any];
        if (host is "::" or "[::]")
            return [IPAddress.IPv6Any];
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            return [IPAddress.Loopback];
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
            return [address];
        var resolved = Dns.GetHostAddresses(host).Where(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6).ToArray();
        return resolved.Length > 0 ? [resolved[0]] : throw new ArgumentException($"cannot resolve host '{host}'");
    }

    /// <summary>
    /// A free TCP port, for a Unix socket whose file name must carry the port before Kestrel binds.
    /// Another process could take it before Kestrel binds; then start fails with "address in use".
    /// </summary>
    public static int FreeTcpPort(string host)
    {
        using var probe = new TcpListener(Addresses(host)[0], 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A directory gets the file name libpq looks for (.s.PGSQL.PORT); anything else is the socket path itself.</summary>
    public static string UnixSocketFile(string path, int port)
        => Directory.Exists(path) ? Path.Combine(path, $".s.PGSQL.{(port == 0 ? DefaultPort : port)}") : path;
}
