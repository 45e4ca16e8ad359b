namespace ZeroPg.Sessions;

/// <summary>
/// Brings the engine session to this client's state at the head of the client's own batch, the way the
/// deferred BEGIN always went: the differences of its settings (<see cref="SessionSettings.RestoreSql"/>), its
/// temp relations renamed back under their names (<see cref="TempRelations.SwapSql"/>), then the deferred
/// BEGIN, each a Query whose reply is swallowed (<see cref="ReplyPlan.PreambleQueries"/>). No engine call of
/// its own: switching between clients costs no extra round trip. What the preamble changes in the shared
/// <see cref="EngineSessionState"/> is committed when the batch is sent (<see cref="EngineBatch.Sending"/>),
/// so a batch built and then dropped (rebuilt after an extension load or an advisory install) changes nothing.
/// Thread: the session, while it holds the engine.
/// </summary>
internal sealed class EngineStateRestore(SessionServices services, SessionSettings settings, TempRelations temp, ProtocolState state)
{
    /// <summary>Writes what the engine session lacks of this client's state into the empty <paramref name="batch"/>.</summary>
    public void WritePreamble(EngineBatch batch)
    {
        var engine = services.EngineState;
        var restore = settings.RestoreSql(engine.AppliedSettings);
        if (restore is not null)
            batch.AddPreambleQuery(restore);
        var swap = engine.TempOwner != temp && (engine.TempOwner is not null || temp.Count > 0);
        if (swap)
        {
            foreach (var rename in temp.SwapSql(engine))
                batch.AddPreambleQuery(rename);
        }
        var begin = state.Transaction == TransactionState.BeginDeferred;
        if (begin)
            batch.AddPreambleQuery("BEGIN"); // only plain forms are deferred, all equal to this
        if (restore is null && !swap && !begin)
            return;
        batch.Sending += () =>
        {
            if (restore is not null)
                engine.AppliedSettings = settings.Copy();
            if (swap)
                temp.Swapped(engine);
            if (begin)
                state.BeginSent();
        };
    }
}
