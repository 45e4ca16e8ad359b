using System.Text;

namespace ZeroPg.Sessions;

/// <summary>
/// One client's temporary relations. The engine has one pg_temp schema, so a client's temp relations
/// keep their own names only while its batches run (<see cref="EngineSessionState.TempOwner"/>); when
/// another client's batch comes, they are renamed aside (zp&lt;pid&gt;_name) and back at the head of that
/// batch (<see cref="SwapSql"/>). They are dropped when the client disconnects. Thread: the session; the
/// engine state is touched while the session holds the engine.
/// </summary>
internal sealed class TempRelations(SessionIdentity identity) : ISessionState
{
    public const string DiscoverSql = """
        SELECT relname, relkind::text FROM pg_catalog.pg_class
        WHERE relnamespace = pg_catalog.pg_my_temp_schema() AND relkind IN ('r','p','v','m','S','i','f')
          AND relname !~ '^zp[0-9]+_' AND relname !~ '^zeropg_internal'
        """;

    private List<(string Name, char Kind)> _relations = [];

    public int Count => _relations.Count;

    /// <summary>
    /// The client made a temp relation in this engine session: the temp schema is then its own as far as its SQL sees
    /// (pg_my_temp_schema(), pg_namespace), and stays so, as in Postgres, after the relation is dropped.
    /// </summary>
    public bool MadeAny { get; private set; }

    /// <summary>A unit may have created or dropped temp objects; they are looked up again once it ends outside a transaction.</summary>
    public bool Dirty { get; private set; }

    public void Note(UnitEffects effects)
    {
        if (effects.TempObjectsChanged)
            Dirty = true;
    }

    /// <summary>The rows of <see cref="DiscoverSql"/>, run with this client's relations under their own names.</summary>
    public void ApplyDiscovered(IEnumerable<(string Name, string Kind)> rows, EngineSessionState engine)
    {
        _relations = [.. rows.Select(r => (r.Name, r.Kind[0]))];
        Dirty = false;
        MadeAny |= _relations.Count > 0;
        if (_relations.Count > 0)
            engine.TempOwner = this;
    }

    /// <summary>
    /// Statements that put the current owner's relations aside and bring this client's back, or none when
    /// this client's already carry their names; <see cref="EngineSessionState.TempOwner"/> is this client's
    /// once they ran (<paramref name="engine"/> is updated when the caller commits them).
    /// </summary>
    public List<string> SwapSql(EngineSessionState engine)
    {
        var renames = new List<string>();
        if (engine.TempOwner == this)
            return renames;
        if (engine.TempOwner is { } previous)
        {
            // IF EXISTS: a relation the bookkeeping still lists may be gone (dropped in a way no analysis saw); a rename of it must
            // not fail the guarded restore, which would end every later client as unrestorable (the fuzzer's pg_temp.fz_tmp).
            foreach (var (name, _) in previous._relations)
                renames.Add($"ALTER TABLE IF EXISTS pg_temp.{Identifier(name)} RENAME TO {Identifier(previous.Aside(name))}");
        }
        foreach (var (name, _) in _relations)
            renames.Add($"ALTER TABLE IF EXISTS pg_temp.{Identifier(Aside(name))} RENAME TO {Identifier(name)}");
        return renames;
    }

    /// <summary>
    /// The engine restarted: temp relations die with the engine session and ZeroPg cannot make them again (their rows are gone),
    /// so a client that has some (or may have made some not yet looked up) cannot go on with the session it had.
    /// </summary>
    public RestartOutcome Restarted()
    {
        var names = _relations.Select(r => r.Name).ToList();
        var dirty = Dirty;
        _relations = [];
        Dirty = false;
        MadeAny = false;
        if (names.Count > 0)
            return RestartOutcome.CannotRestore($"its temporary tables ({string.Join(", ", names)}) and their rows");
        return dirty ? RestartOutcome.CannotRestore("the temporary tables its last statements may have made") : RestartOutcome.NothingHeld;
    }

    /// <summary>After <see cref="SwapSql"/> was sent: whose relations carry their names now.</summary>
    public void Swapped(EngineSessionState engine) => engine.TempOwner = _relations.Count > 0 ? this : null;

    /// <summary>SQL that drops this departing client's temp relations, wherever they are named now; null when it has none.</summary>
    public string? DropSql(EngineSessionState engine)
    {
        if (_relations.Count == 0)
            return null;
        var own = engine.TempOwner == this;
        var sql = new StringBuilder();
        foreach (var (name, kind) in _relations)
        {
            var target = Identifier(own ? name : Aside(name));
            var what = kind switch { 'v' => "VIEW", 'm' => "MATERIALIZED VIEW", 'S' => "SEQUENCE", 'f' => "FOREIGN TABLE", 'i' => null, _ => "TABLE" };
            if (what is not null)
                sql.Append($"DROP {what} IF EXISTS pg_temp.{target} CASCADE;");
        }
        if (own)
            engine.TempOwner = null;
        _relations = [];
        return sql.ToString();
    }

    private string Aside(string name) => $"zp{identity.ProcessId}_{name}";

    private static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    /// <summary>The current owner's relations go aside and this client's come back under their names.</summary>
    void ISessionState.WritePreamble(Preamble preamble)
    {
        var engine = preamble.Engine;
        if (engine.TempOwner != this && (engine.TempOwner is not null || Count > 0))
            preamble.Add(SwapSql(engine), () => Swapped(engine));
    }

    /// <summary>Temp objects the unit made or dropped are looked up once it is final; DISCARD ALL / TEMP in the engine dropped everyone's.</summary>
    ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        var engine = unit.Engine;
        if (unit.Effects.DropsAllTemp)
            engine.TempOwner = null;
        Note(unit.Effects);
        if (Dirty && unit.Settled)
            readBack.Read(DiscoverSql, reply => ApplyDiscovered(OwnSql.TextPairs(reply), engine));
        return ValueTask.CompletedTask;
    }

    bool ISessionState.LeftBehind() => Count > 0;

    void ISessionState.WriteCleanup(SessionEnd end) => end.Sql(DropSql(end.Engine));

}
