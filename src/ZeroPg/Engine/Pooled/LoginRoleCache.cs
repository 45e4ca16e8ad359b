using System.Collections.Concurrent;
using ZeroPg.Security;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// The roles logins read from pg_authid of the server behind the pool (<see cref="Server.PooledConnectionHandler"/>), kept for
/// <see cref="ZeroPgOptions.PoolLoginRoleCacheAge"/> so a burst of logins costs one backend read per role instead of one per
/// login (a role that does not exist too). Forgotten at once when a pooled client's transaction that may change roles ends
/// (<see cref="SessionPins.MayChangeRoles"/>: CREATE, ALTER, DROP ROLE or USER, and code the scan cannot see into); a change
/// made on the server directly, past the pool, is seen once the age has passed. A read that overlapped a forgetting is not
/// kept (<see cref="_generation"/>): it may have read the roles before the change committed. Thread: any.
/// </summary>
internal sealed class LoginRoleCache(TimeSpan maxAge, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Database, string User), (LoginRole? Role, long ReadAt)> _roles = new();
    private long _generation;

    public LoginRoleCache(TimeSpan maxAge) : this(maxAge, TimeProvider.System)
    {
    }

    /// <summary>The role as a login read it less than the age ago; false when it must be read.</summary>
    public bool TryGet(string database, string user, out LoginRole? role)
    {
        role = null;
        if (maxAge <= TimeSpan.Zero || !_roles.TryGetValue((database, user), out var entry))
            return false;
        if (time.GetElapsedTime(entry.ReadAt) >= maxAge)
        {
            _roles.TryRemove(new((database, user), entry));
            return false;
        }
        role = entry.Role;
        return true;
    }

    /// <summary>Where a read starts: what <see cref="Keep"/> is given back.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Keeps what a read that started at <paramref name="generation"/> found, unless roles were forgotten since.</summary>
    public void Keep(string database, string user, LoginRole? role, long generation)
    {
        if (maxAge <= TimeSpan.Zero)
            return;
        _roles[(database, user)] = (role, time.GetTimestamp());
        if (Generation != generation)
            _roles.TryRemove((database, user), out _); // a forgetting overlapped the read
    }

    /// <summary>A statement through the pool may have changed roles: every login reads them again.</summary>
    public void Forget()
    {
        Interlocked.Increment(ref _generation);
        _roles.Clear();
    }
}
