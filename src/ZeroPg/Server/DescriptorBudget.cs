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

    /// <summary>The soft RLIMIT_NOFILE, or null when unknown or unlimited (<see cref="Platform.HostPlatform.OpenFilesLimit"/>).</summary>
    public static long? SoftLimit() => Platform.HostPlatform.Current.OpenFilesLimit();

    /// <summary>Descriptors open now (the runtime's own, mapped assemblies, the listeners).</summary>
    public static int OpenNow() => Platform.HostPlatform.Current.OpenDescriptorCount();

    /// <summary>Connections the limit leaves room for (at least 1), or null when there is no limit to respect.</summary>
    public static long? Connections()
    {
        if (SoftLimit() is not { } limit || limit > int.MaxValue)
            return null;
        return Math.Max(1, limit - OpenNow() - Reserve);
    }
}
