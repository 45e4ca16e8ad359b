namespace ZeroPg.Sessions;

/// <summary>
/// The session objects of one client, in registration order: the order their preamble statements, read-back statements
/// and cleanup statements go to the engine. Registering an object is its one line in <see cref="SessionComposition"/>.
/// </summary>
internal sealed class SessionStates(ISessionState[] states)
{
    public void Observe(Sql.SqlAnalysis sql)
    {
        foreach (var state in states)
            state.Observe(sql);
    }

    public Preamble Preamble(EngineSessionState engine)
    {
        var preamble = new Preamble(engine);
        foreach (var state in states)
            state.WritePreamble(preamble);
        return preamble;
    }

    /// <summary>After a unit: every object takes its effects, and what they read back is one engine call (the caller holds the engine).</summary>
    public async Task AfterUnitAsync(UnitOutcome unit, EngineLink link)
    {
        var readBack = new ReadBack();
        foreach (var state in states)
            await state.AfterUnitAsync(unit, readBack);
        await readBack.RunAsync(link);
    }

    /// <summary>The client left: true when any object left something in the engine session (each is asked).</summary>
    public bool LeftBehind()
    {
        var any = false;
        foreach (var state in states)
            any |= state.LeftBehind();
        return any;
    }

    public void WriteCleanup(SessionEnd end)
    {
        foreach (var state in states)
            state.WriteCleanup(end);
    }

    public void Ended()
    {
        foreach (var state in states)
            state.Ended();
    }

    public void Lost()
    {
        foreach (var state in states)
            state.Lost();
    }
}
