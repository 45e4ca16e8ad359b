using System.Globalization;

namespace ZeroPg.Server;

/// <summary>
/// How many connections the process's file-descriptor limit leaves room for. At the limit, accept() fails with EMFILE
/// and the socket transport retried it at once: one core spinning, memory growing (measured ~8 MB/s), nobody served.
/// So the server never gets there: Kestrel's MaxConcurrentConnections is set to this budget, and a connection past it
/// is accepted and closed at once (Kestrel logs it), while the server keeps serving the others.
/// </summary>
internal static class DescriptorBudget
{
    /// <summary>Descriptors kept for everything but client sockets opened later: data and log files, the engine's pipes, backups, /metrics.</summary>
    public const int Reserve = 128;

    /// <summary>The soft RLIMIT_NOFILE (Linux: /proc/self/limits), or null when unknown or unlimited.</summary>
    public static long? SoftLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                // "Max open files            1048576              1048576              files"
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                    continue;
                var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : null;
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>Descriptors open now (the runtime's own, mapped assemblies, the listeners).</summary>
    public static int OpenNow()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Connections the limit leaves room for (at least 1), or null when there is no limit to respect.</summary>
    public static long? Connections()
    {
        if (SoftLimit() is not { } limit || limit > int.MaxValue)
            return null;
        return Math.Max(1, limit - OpenNow() - Reserve);
    }
}
