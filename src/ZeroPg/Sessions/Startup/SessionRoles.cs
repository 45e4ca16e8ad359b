using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Security;

namespace ZeroPg.Sessions;

/// <summary>
/// The login role (null when it does not exist). Roles belong to the cluster, as in Postgres: the postgres
/// database's engine holds them, and another database's engine gets a copy of the role at login (so its
/// session authorization, grants and row-level security work there), with the password verifier of the
/// cluster's role. The copy in postgres is read from ZeroPg's <see cref="RoleDirectory"/> when it is current;
/// this database's own roles are read between other clients' batches when its directory is not. A unit that
/// changes roles marks the directory stale before its reply can reach the client (a pool's next login must not
/// take the old role) and reads it again once the change is committed. Thread: the session.
/// </summary>
internal sealed class SessionRoles(SessionComposition parts)
{
    private readonly SessionServices _services = parts.Services;

    public async Task<LoginRole?> LookUpAsync(string user)
    {
        var primary = _services.Databases?.Primary;
        LoginRole? cluster = null;
        if (primary is not null && !ReferenceEquals(primary, _services))
        {
            await primary.Roles.WaitReadAsync(TimeSpan.FromSeconds(2)); // a role change in postgres is being read back
            primary.Roles.TryGet(user, primary.Engine.Generation, out cluster);
        }
        var local = await LookUpLocalAsync(user);
        if (cluster is null || cluster == local)
            return local;
        await CopyAsync(cluster);
        return cluster;
    }

    /// <summary>Before a unit of the first <paramref name="count"/> messages: true when it changes roles (then the directory is stale from now).</summary>
    public bool BeforeUnit(ClientBatch batch, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (batch.Messages[i] is { Code: FrontendCode.Query or FrontendCode.Parse, Sql.ChangesRoles: true })
            {
                _services.Roles.MarkStale();
                return true;
            }
        }
        return false;
    }

    /// <summary>After a unit that changed roles: read again now when the change is committed, so logins (to any database) see it; else at the next login here.</summary>
    public async Task AfterUnitAsync()
    {
        if (parts.State.Status == TransactionStatus.Idle && !parts.State.InCopy)
            await ReadAsync();
        else
            _services.Roles.MarkStale();
    }

    private async Task<LoginRole?> LookUpLocalAsync(string user)
    {
        var roles = _services.Roles;
        await _services.Engine.GetAsync(); // the generation the directory is compared with is the running engine's
        if (roles.TryGet(user, _services.Engine.Generation, out var known))
            return known;
        await parts.Lease.AcquireAsync(EngineAccess.Internal);
        try
        {
            await ReadAsync();
            roles.TryGet(user, _services.Engine.Generation, out var read);
            return read;
        }
        finally
        {
            parts.Lease.ReleaseIfIdle(parts.State);
        }
    }

    /// <summary>Reads this engine's pg_authid into its directory (holding the engine, outside a transaction).</summary>
    private async Task ReadAsync()
    {
        // pg_authid is readable by superusers only: the engine may be running as another client's role.
        var lookup = EngineStateRestore.AppendEngineRole(new BatchBuffer(), _services.EngineState);
        var reply = await parts.Link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(lookup, LoginRole.AllSql));
        var rows = reply.TextRows().Select(row => LoginRole.FromRow(row.Columns)).ToList();
        _services.Roles.Replace(rows, _services.Engine.Generation);
    }

    /// <summary>Makes this database's engine hold the cluster's role as the postgres database has it.</summary>
    private async Task CopyAsync(LoginRole role)
    {
        await parts.Lease.AcquireAsync(EngineAccess.Internal);
        try
        {
            var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), _services.EngineState);
            OwnSql.Append(batch, role.CopySql());
            await parts.Link.RunOwnSqlAsync(ReplyMode.Discard, batch);
            await ReadAsync();
        }
        finally
        {
            parts.Lease.ReleaseIfIdle(parts.State);
        }
    }
}
