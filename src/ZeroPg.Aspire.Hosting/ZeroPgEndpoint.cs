using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>
/// Where a ZeroPg server listens. The AppHost runs the server itself, so no orchestrator allocates the
/// port: it is the one the server bound (a free one unless fixed), known once it has started, and a
/// value asked for earlier waits for it.
/// </summary>
public sealed class ZeroPgEndpoint(ZeroPgServerResource resource, string scheme)
{
    private TaskCompletionSource<(string Host, int Port)> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ZeroPgServerResource Resource { get; } = resource;

    /// <summary>tcp (Postgres) or http (the dashboard).</summary>
    public string Scheme { get; } = scheme;

    public bool IsAllocated => _bound.Task.IsCompletedSuccessfully;

    /// <summary>The host clients connect to, as a value Aspire resolves when a referencing resource starts.</summary>
    public ZeroPgEndpointPart Host => new(this, "host", b => b.Host);

    /// <summary>The port clients connect to.</summary>
    public ZeroPgEndpointPart Port => new(this, "port", b => b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>scheme://host:port, once bound.</summary>
    public string Url => IsAllocated ? $"{Scheme}://{_bound.Task.Result.Host}:{_bound.Task.Result.Port}" : throw new InvalidOperationException($"{Resource.Name} has not started yet");

    internal int BoundPort => IsAllocated ? _bound.Task.Result.Port : 0;

    internal void Bind(string host, int port)
    {
        if (!_bound.TrySetResult((host, port)) && _bound.Task.Result != (host, port))
        {
            // Started again on another port (a fixed port was taken): later readers get the new one.
            var next = new TaskCompletionSource<(string Host, int Port)>(TaskCreationOptions.RunContinuationsAsynchronously);
            next.SetResult((host, port));
            _bound = next;
        }
    }

    internal async Task<(string Host, int Port)> WaitAsync(CancellationToken cancellationToken) => await _bound.Task.WaitAsync(cancellationToken);
}

/// <summary>The host or port of a <see cref="ZeroPgEndpoint"/>: a value that waits for the server to have bound it.</summary>
public sealed class ZeroPgEndpointPart : IValueProvider, IManifestExpressionProvider, IValueWithReferences
{
    private readonly ZeroPgEndpoint endpoint;
    private readonly string property;
    private readonly Func<(string Host, int Port), string> select;

    internal ZeroPgEndpointPart(ZeroPgEndpoint endpoint, string property, Func<(string Host, int Port), string> select)
    {
        this.endpoint = endpoint;
        this.property = property;
        this.select = select;
    }

    public string ValueExpression => $"{{{endpoint.Resource.Name}.bindings.{endpoint.Scheme}.{property}}}";

    public IEnumerable<object> References => [endpoint.Resource];

    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
        => select(await endpoint.WaitAsync(cancellationToken));
}
