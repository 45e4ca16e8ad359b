using System.Collections.Concurrent;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// The pooled clients connected now, by the process id ZeroPg gave them in BackendKeyData: a CancelRequest names one of them
/// (ZeroPg's key in front), and the client passes it to the backend running its statement. Thread-safe.
/// </summary>
internal sealed class PooledClients
{
    private readonly ConcurrentDictionary<int, (PooledClient Client, int SecretKey)> _clients = new();
    private int _lastId = Security.OsRandom.GetInt32(1_000_000, 2_000_000);

    public int Count => _clients.Count;

    public (int ProcessId, int SecretKey) Add(PooledClient client)
    {
        var secret = Security.OsRandom.GetInt32(int.MaxValue);
        while (true)
        {
            var id = Interlocked.Increment(ref _lastId) & int.MaxValue;
            if (id != 0 && _clients.TryAdd(id, (client, secret)))
                return (id, secret);
        }
    }

    public void Remove(int processId) => _clients.TryRemove(processId, out _);

    public PooledClient? Find(int processId, int secretKey)
        => _clients.TryGetValue(processId, out var entry) && entry.SecretKey == secretKey ? entry.Client : null;
}
