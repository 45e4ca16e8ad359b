using ZeroPg.Migrations;

namespace ZeroPg.Engine;

/// <summary>
/// Migrations run straight on a freshly started engine, before any client gets it (clients that connect
/// meanwhile wait for the start, as for the engine itself). Extensions the SQL creates are loaded first,
/// as for a client's statements. Afterwards <see cref="ResetAsync"/> leaves the engine session as new.
/// </summary>
internal sealed class EngineMigrationSession(EngineProcess engine, ExtensionLoader extensions) : IMigrationSession
{
    public async Task<IReadOnlyList<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        var names = ExtensionStatements.Find(sql);
        if (names.Count > 0)
            await extensions.EnsureLoadedAsync(engine, names, cancellationToken);
        var batch = new Sessions.BatchBuffer();
        Protocol.Frontend.QueryMessage.Write(batch, sql);
        var call = new CollectingCall();
        await engine.SubmitAsync(call, batch.Frame(HostRequestKind.Batch));
        await call.Completion;
        return SimpleQueryReply.Parse(call.Reply.WrittenSpan);
    }

    /// <summary>Settings, advisory locks, listens and temp objects a migration left behind go, before clients share the engine.</summary>
    public Task ResetAsync(CancellationToken cancellationToken) => QueryAsync("DISCARD ALL", cancellationToken);
}
