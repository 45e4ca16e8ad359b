using ZeroPg.Platform.Linux;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// The one place that chooses, once per server, how the pool's sockets wait: on Linux (with
/// <see cref="ZeroPgOptions.PoolEventLoop"/>) one epoll thread of ZeroPg's own serves the pooled clients' plain connections and
/// their backends together (<see cref="EpollSockets"/>, <see cref="EpollListenerFactory"/>), PgBouncer's shape; elsewhere, or
/// switched off, Kestrel's sockets and .NET's socket threads.
/// </summary>
internal static class PoolEventLoop
{
    public static EpollSockets? For(ZeroPgOptions options) =>
        options.PoolEventLoop && OperatingSystem.IsLinux() && (options.PoolSize is not null || options.Upstream is not null) ? EpollSockets.Instance : null;
}
