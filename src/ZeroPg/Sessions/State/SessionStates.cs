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

    /// <summary>What died with the client's open transaction block, one line each (<see cref="ISessionState.DiesWithTransaction"/>).</summary>
    public List<string> DiesWithTransaction()
    {
        var lost = new List<string>();
        foreach (var state in states)
        {
            if (state.DiesWithTransaction() is { } what)
                lost.Add(what);
        }
        return lost;
    }

    /// <summary>The engine restarted: every object forgets what died with it; what they could not put back, one line each (empty: the client's session is whole).</summary>
    public List<string> Restarted()
    {
        var lost = new List<string>();
        foreach (var state in states)
        {
            if (state.Restarted() is { IsLost: true } outcome)
                lost.Add(outcome.What);
        }
        return lost;
    }
}
