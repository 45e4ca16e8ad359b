using System.Collections.Concurrent;

namespace ZeroPg.Sessions;

/// <summary>The connected sessions, by the virtual process id each was given in BackendKeyData.</summary>
internal sealed class SessionRegistry
{
    private readonly ConcurrentDictionary<int, ClientSession> _sessions = new();
    private int _nextProcessId = 1000 + Security.OsRandom.GetInt32(1000);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public IEnumerable<ClientSession> Sessions => _sessions.Values;

    /// <summary>Admits a session if the connection limit allows; assigns its process id and secret key.</summary>
    public bool TryAdmit(ClientSession session, int maxConnections)
    {
        if (Interlocked.Increment(ref _count) > maxConnections)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }
        var processId = Interlocked.Increment(ref _nextProcessId);
        session.Identity.Assign(processId, Security.OsRandom.GetInt32(int.MaxValue));
        _sessions[processId] = session;
        return true;
    }

    public void Remove(ClientSession session)
    {
        if (session.Identity.ProcessId != 0 && _sessions.TryRemove(new KeyValuePair<int, ClientSession>(session.Identity.ProcessId, session)))
            Interlocked.Decrement(ref _count);
    }

    /// <summary>A client with this process id is connected.</summary>
    public bool IsConnected(int processId) => _sessions.ContainsKey(processId);

    /// <summary>The connected client with this process id (pg_terminate_backend, pg_cancel_backend), or null.</summary>
    public ClientSession? Find(int processId) => _sessions.TryGetValue(processId, out var session) ? session : null;

    public ClientSession? Find(int processId, int secretKey)
        => _sessions.TryGetValue(processId, out var session) && session.Identity.SecretKey == secretKey ? session : null;
}
