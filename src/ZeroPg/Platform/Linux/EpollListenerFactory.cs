using System.Net;
using Microsoft.AspNetCore.Connections;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// Kestrel's transport for the pooled wire endpoints (<see cref="EpollListener"/> on <see cref="EpollSockets"/>); every other
/// endpoint (HTTP) stays on Kestrel's socket transport: Kestrel asks the last registered factory first, and this one binds only
/// the endpoints it was given.
/// </summary>
internal sealed class EpollListenerFactory(EpollSockets loop, Func<EndPoint, bool> isPooled) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => isPooled(endpoint);

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(EpollListener.Bind(endpoint, loop));
}
