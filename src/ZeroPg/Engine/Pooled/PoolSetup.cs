namespace ZeroPg.Engine.Pooled;

/// <summary>The pool the options ask for: over the cluster ZeroPg starts (--pool), over an upstream (--upstream), or none.</summary>
internal static class PoolSetup
{
    /// <summary>With --upstream and no --pool: this many backends.</summary>
    public const int DefaultUpstreamSize = 10;

    public static BackendPool? Create(ZeroPgOptions options, Native.NativeCluster? cluster)
    {
        if (options.Engine != EngineKind.Postgres)
            return null;
        if (options.Upstream is { } url)
            return new BackendPool(PoolTarget.Upstream(UpstreamUrl.Parse(url), PoolEventLoop.For(options)), options.PoolSize ?? DefaultUpstreamSize, options.PoolWaitTimeout)
            {
                AutoPrepareCapacity = options.AutoPrepare ? options.AutoPrepareMaxStatements : 0,
            };
        return options.PoolSize is { } size && cluster is not null
            ? new BackendPool(PoolTarget.Cluster(cluster.SocketFile, PoolEventLoop.For(options)), size, options.PoolWaitTimeout)
            {
                AutoPrepareCapacity = options.AutoPrepare ? options.AutoPrepareMaxStatements : 0,
            }
            : null;
    }
}
