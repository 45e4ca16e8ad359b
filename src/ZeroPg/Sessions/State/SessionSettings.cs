using System.Collections.Frozen;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// One client's session settings (varcache.c in PgBouncer). Startup parameters and <c>options=-c ...</c>
/// are its first settings; after a unit that may have changed settings (SET, RESET, set_config, DISCARD; code the
/// analysis cannot see into: DO, CALL, EXECUTE, a FunctionCall, a Bind of a statement that does so) ends outside a
/// transaction, the engine session's settings are read back (<see cref="SnapshotSql"/>), so a rolled-back SET is
/// followed; a setting the engine reports changed that nothing of the unit named is taken as reported (<see cref="TakeReported"/>); when another client had the engine, the differences are restored at the
/// head of this client's next batch (<see cref="RestoreSql"/>). ParameterStatus goes only to the client
/// whose value it is, and only when it differs from what the client was last told (<see cref="ShouldReport"/>).
/// Thread: the session, except <see cref="ShouldReport"/>, which the engine reader thread calls during this
/// session's calls (the session is then awaiting the call, so the two never overlap).
/// </summary>
internal sealed class SessionSettings : ISessionState
{
    /// <summary>
    /// The session's settings, and its session authorization (a setting pg_settings does not list) read as session_user:
    /// PGlite's current_setting('session_authorization') is empty until a SET SESSION AUTHORIZATION, which read as a role
    /// named "" made the next batch switch to it and fail (zero-cache's schema install lost its transaction).
    /// </summary>
    private const string PgSettingsSql = "SELECT name, setting FROM pg_catalog.pg_settings WHERE source = 'session'"
        + " UNION ALL SELECT 'session_authorization', session_user::pg_catalog.text";
    private static readonly string[] NotSettings = ["user", "database", "options", "replication"];

    /// <summary>Settings a real server reports at startup, in the order Postgres sends them.</summary>
    private static readonly string[] ReportedAtStartup =
    [
        "application_name", "client_encoding", "DateStyle", "default_transaction_read_only", "in_hot_standby",
        "integer_datetimes", "IntervalStyle", "is_superuser", "scram_iterations", "search_path", "server_encoding",
        "server_version", "session_authorization", "standard_conforming_strings", "TimeZone",
    ];

    /// <summary>
    /// Settings that change what Postgres makes of a statement's text when it parses it: the name lookup
    /// (search_path) and literals converted then (a timestamptz in TimeZone, a date in DateStyle). Clients
    /// that differ in them get auto-prepared statements of their own.
    /// </summary>
    private static readonly string[] ParseSettings =
    [
        "search_path", "timezone", "datestyle", "intervalstyle", "timezone_abbreviations", "lc_monetary", "xmloption",
        "transform_null_equals", "array_nulls", "standard_conforming_strings", "default_text_search_config", "role", "session_authorization",
    ];

    /// <summary>
    /// Each of <see cref="ParseSettings"/> by its place in the key. A client's values are walked against it (one lookup per
    /// value, and most clients set one: application_name) instead of looking up every parse setting per statement.
    /// </summary>
    private static readonly FrozenDictionary<string, int> ParseSettingPlaces =
        ParseSettings.Index().ToFrozenDictionary(p => p.Item, p => p.Index, StringComparer.OrdinalIgnoreCase);

    private const string SessionAuthorizationName = "session_authorization";

    private readonly HashSet<string> _customNames = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _reported = new(StringComparer.OrdinalIgnoreCase);
    private Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public SessionSettings(IReadOnlyDictionary<string, string> startupParameters)
    {
        foreach (var (name, value) in startupParameters)
        {
            if (!NotSettings.Contains(name) && !name.StartsWith("_pq_.", StringComparison.Ordinal))
                _values[name] = value;
        }
        if (startupParameters.TryGetValue("options", out var options))
        {
            foreach (var (name, value) in StartupOptions.Parse(options))
                _values[name] = value;
        }
        if (_values.Remove("client_encoding", out var encoding))
            _startupEncodingName = encoding;
        foreach (var name in _values.Keys.Where(n => n.Contains('.')))
            _customNames.Add(name);
        Dirty = _values.Count > 0;
        // The startup settings are not read back: they were checked valid before the client was let in (StartupSettingsCheck)
        // and every engine batch of this client sets them first where the engine session differs (RestoreSql), so they are
        // known. A new connection then costs no engine call of its own after its first unit (~0.6 ms of the engine's time
        // warm, 10-20 ms on a cold engine). Their values stay as the client wrote them (DateStyle "iso", not the engine's
        // "ISO, MDY"): they are only compared with each other. A transaction or identity setting is read back whole, as a SET of it.
        _notByNameSinceRead = _values.Keys.Any(name => !Sql.SetStatement.ReadsBackByName(name));
    }

    /// <summary>
    /// The settings the client's SETs and RESETs named since its settings were last read back, while each change was one of
    /// those: then only they are read back, with current_setting, not the ~380 rows of pg_settings (0.67 ms of the engine's
    /// time per read: a client that sets its search_path per request paid more for the read than for its queries). Dirty with
    /// neither a name nor <see cref="_notByNameSinceRead"/>: only the startup settings are unread, and nothing needs reading.
    /// </summary>
    private readonly HashSet<string> _namedSinceRead = new(StringComparer.OrdinalIgnoreCase);
    private bool _notByNameSinceRead;

    /// <summary>
    /// The client's statements changed settings that were not read back yet (a unit that ended inside a transaction block, or
    /// one cut short by the client's end): the engine session may hold values <see cref="EngineSessionState.AppliedSettings"/>
    /// does not know, so a client that leaves now leaves the engine's settings reset (<see cref="ISessionState.WriteCleanup"/>).
    /// Without it, <c>SELECT set_config('search_path', 'nowhere', false); BEGIN</c> and a disconnect left every later client
    /// with search_path "nowhere" (the fuzzer's witness lost its table). Startup settings never set it: the preamble set them.
    /// </summary>
    private bool _unreadChanges;

    /// <summary>
    /// The client_encoding of the startup packet (UTF8 when it names none, the server's encoding as in Postgres). It is
    /// never an engine setting: the engine speaks UTF8 and ZeroPg converts (<see cref="ClientEncoding"/>). An encoding
    /// ZeroPg does not know yet is taken as UTF8 here; <see cref="EnsureServableClientEncoding"/> refuses it.
    /// </summary>
    public PgEncoding StartupClientEncoding => _startupEncodingName is { } name ? PgEncoding.Find(name) ?? PgEncoding.Utf8 : PgEncoding.Utf8;

    private readonly string? _startupEncodingName;

    /// <summary>Before authentication, as Postgres checks it: a client_encoding ZeroPg cannot serve ends the connection.</summary>
    public void EnsureServableClientEncoding()
    {
        if (_startupEncodingName is { } name)
            ClientEncodingAnswers.Resolve(name, fatal: true);
    }

    /// <summary>
    /// The identity this client's statements run under in the engine session, when it is not the engine's own
    /// role: its login role, or the one a superuser client took with SET SESSION AUTHORIZATION. Not a pg_settings
    /// row, so it is kept apart from the other settings and switched by <see cref="EngineStateRestore"/>.
    /// </summary>
    public string? SessionAuthorization { get; private set; }

    private string? _login;
    private bool _loginIsSuperuser = true;

    /// <summary>The client authenticated as <paramref name="role"/>.</summary>
    public void Authenticated(string role, bool isSuperuser)
    {
        _login = role == SessionIdentity.EngineRole ? null : role;
        _loginIsSuperuser = isSuperuser;
        SessionAuthorization = _login;
    }

    /// <summary>The engine session may hold settings of this client that were not read back yet.</summary>
    public bool Dirty { get; private set; }

    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>The ParameterStatus values for the startup reply (each remembered as told).</summary>
    public IEnumerable<(string Name, string Value)> StartupReport(IReadOnlyDictionary<string, string>? engineParameters)
    {
        foreach (var name in ReportedAtStartup)
        {
            var value = name switch
            {
                // The engine reports its own identity; the client is told its login's.
                SessionAuthorizationName => SessionAuthorization ?? SessionIdentity.EngineRole,
                "is_superuser" => _loginIsSuperuser ? "on" : "off",
                "client_encoding" => StartupClientEncoding.Name,
                _ => _values.TryGetValue(name, out var own) ? own : name == "application_name" ? "" : engineParameters?.GetValueOrDefault(name),
            };
            if (value is null)
                continue;
            _reported[name] = value;
            yield return (name, value);
        }
    }

    /// <summary>
    /// Reader thread: true when the client must be sent this ParameterStatus (whole message). The engine
    /// reports values ZeroPg restored for this client too (and re-reports after errors): a client is told of
    /// a setting only when its value differs from what it was last told.
    /// </summary>
    public bool ShouldReport(ReadOnlySpan<byte> message)
    {
        var (name, value) = ParameterStatusReply.Parse(message);
        if (name.Equals("client_encoding", StringComparison.OrdinalIgnoreCase))
            return false; // the engine's is always UTF8; ZeroPg tells the client its own (ClientEncodingAnswers)
        if (_reported.TryGetValue(name, out var known) && known == value)
            return false;
        _reported[name] = value;
        _reportedInUnit.Add((name, value));
        return true;
    }

    /// <summary>
    /// The settings the engine reported a new value of during this client's unit (reader thread, while the session awaits the
    /// call): a change the analysis may not have seen (a set_config inside a function the client calls). See <see cref="TakeReported"/>.
    /// </summary>
    private readonly List<(string Name, string Value)> _reportedInUnit = [];

    /// <summary>
    /// The settings the engine reported changed in the unit that no SET or set_config of the unit accounts for: the engine
    /// session holds them now, so they are this client's (as reported: the value after the unit's statements), and the engine
    /// state says their value is unknown, so the next client's preamble sets or resets each. Without this, the next client ran
    /// with them (the fuzzer's witness lost its table to a search_path of "nowhere"). The unit may have handed the engine on
    /// already (SELECT f() is pipelined): another client may have held it since, so nothing is read back from it here.
    /// </summary>
    private void TakeReported(UnitOutcome unit)
    {
        foreach (var (name, value) in _reportedInUnit)
        {
            if (_notByNameSinceRead || _namedSinceRead.Contains(name) || !Sql.SetStatement.ReadsBackByName(name) || NotSettable.Contains(name))
                continue; // read back after the unit (it was not pipelined: it changes settings)
            unit.Engine.AppliedSettings[name] = UnknownValue;
            if (unit.Settled)
            {
                _values[name] = value;
            }
            else
            {
                Dirty = true; // may be rolled back: read at the end of the transaction block, which holds the engine
                _unreadChanges = true;
                _namedSinceRead.Add(name);
            }
        }
        _reportedInUnit.Clear();
    }

    /// <summary>Reported settings no client sets: they change with the server or with the role (SET ROLE is read back whole).</summary>
    private static readonly string[] NotSettable = ["is_superuser", "in_hot_standby", "server_version", "server_encoding", "integer_datetimes"];

    /// <summary>A value no setting has: the engine session's value is not known, so a preamble always sets or resets it.</summary>
    private const string UnknownValue = "\0unknown";

    /// <summary>ZeroPg tells the client <paramref name="name"/> is <paramref name="value"/>: remembered as told, so the engine's same value is not sent again.</summary>
    public string Reported(string name, string value)
    {
        _reported[name] = value;
        return value;
    }

    /// <summary>A unit may have changed settings (or set custom ones, which pg_settings does not list).</summary>
    public void Note(UnitEffects effects)
    {
        if (effects.SettingsChanged)
        {
            Dirty = true;
            _unreadChanges = true;
            if (effects.SettingsOnlyByName)
                _namedSinceRead.UnionWith(effects.SetNames);
            else
                _notByNameSinceRead = true;
        }
        foreach (var name in effects.CustomSettings)
            _customNames.Add(name);
    }

    /// <summary>
    /// SET name = value answered by ZeroPg: this client's setting now, set in the engine with its next unit's settings (an
    /// invalid value then fails there, not here: only for a replication connection that cannot wait for the engine).
    /// </summary>
    public void SetLater(string name, string? value)
    {
        if (value is null)
            _values.Remove(name);
        else
            _values[name] = value;
    }

    /// <summary>DISCARD ALL answered for this client: its settings are the defaults again (restored at its next batch).</summary>
    public void Reset()
    {
        _values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        SessionAuthorization = _login; // DISCARD ALL's SET SESSION AUTHORIZATION DEFAULT
        Read();
    }

    /// <summary>SQL bringing the engine session from <paramref name="applied"/> to this client's settings, or null when they are equal.</summary>
    public string? RestoreSql(IReadOnlyDictionary<string, string> applied)
    {
        if (Matches(applied))
            return null;
        var sql = new StringBuilder();
        foreach (var name in applied.Keys)
        {
            if (!_values.ContainsKey(name))
                sql.Append("RESET ").Append(SettingName(name)).Append(';');
        }
        var first = true;
        foreach (var (name, value) in _values)
        {
            if (applied.TryGetValue(name, out var current) && current == value)
                continue;
            sql.Append(first ? "SELECT " : ", ").Append($"pg_catalog.set_config({Literal(name)}, {Literal(value)}, false)");
            first = false;
        }
        if (!first)
            sql.Append(';');
        return sql.Length == 0 ? null : sql.ToString();
    }

    /// <summary>SQL resetting, in the engine session, every setting this client has (its DISCARD ALL, answered by ZeroPg); null when it has none.</summary>
    public string? ResetSql()
    {
        if (_values.Count == 0 && _customNames.Count == 0)
            return null;
        var sql = new StringBuilder();
        foreach (var name in _values.Keys.Concat(_customNames).Distinct(StringComparer.OrdinalIgnoreCase))
            sql.Append("RESET ").Append(SettingName(name)).Append(';');
        return sql.ToString();
    }

    private bool Matches(IReadOnlyDictionary<string, string> applied)
    {
        if (applied.Count != _values.Count)
            return false;
        foreach (var (name, value) in _values)
        {
            if (!applied.TryGetValue(name, out var current) || current != value)
                return false;
        }
        return true;
    }

    /// <summary>A copy of this client's settings, for the engine state once they are restored.</summary>
    public Dictionary<string, string> Copy() => new(_values, StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the engine session's settings: pg_settings, and the custom (dotted) ones this client set.</summary>
    public string SnapshotSql()
    {
        if (_customNames.Count == 0)
            return PgSettingsSql;
        var names = string.Join(", ", _customNames.Select(Literal));
        return PgSettingsSql + $" UNION ALL SELECT n, current_setting(n, true) FROM unnest(ARRAY[{names}]::text[]) n WHERE coalesce(current_setting(n, true), '') <> ''";
    }

    /// <summary>
    /// Reads the engine session's values of the settings named since the last read (<see cref="ReadsBackByName"/>). A name
    /// Postgres does not know reads as NULL, and so does a custom setting only RESET.
    /// </summary>
    public string NamedSnapshotSql()
    {
        var names = string.Join(", ", _namedSinceRead.Select(Literal));
        return $"SELECT n, NULLIF(pg_catalog.current_setting(n, true), CASE WHEN pg_catalog.strpos(n, '.') > 0 THEN '' END) FROM pg_catalog.unnest(ARRAY[{names}]::pg_catalog.text[]) n";
    }

    /// <summary>The settings changed since the last read were all named by SET or RESET: <see cref="NamedSnapshotSql"/> reads them back.</summary>
    public bool ReadsBackByName => !_notByNameSinceRead && _namedSinceRead.Count > 0;

    /// <summary>
    /// The rows of <see cref="NamedSnapshotSql"/>: each a value of this client's now (a setting RESET to its default included:
    /// restored as that value, which is what RESET gives), or gone when NULL. The other settings are as they were.
    /// </summary>
    public void ApplyNamedSnapshot(IEnumerable<string?[]> rows)
    {
        foreach (var row in rows)
        {
            if (row[0] is not { } name)
                continue;
            if (row[1] is { } value)
                _values[name] = value;
            else
                _values.Remove(name);
        }
        Read();
    }

    private void Read()
    {
        Dirty = false;
        _unreadChanges = false;
        _namedSinceRead.Clear();
        _notByNameSinceRead = false;
    }

    /// <summary>The rows of <see cref="SnapshotSql"/> are now this client's settings.</summary>
    public void ApplySnapshot(IEnumerable<(string Name, string Value)> rows)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in rows)
        {
            if (name == SessionAuthorizationName)
                SessionAuthorization = value == SessionIdentity.EngineRole ? null : value;
            else
                settings[name] = value;
        }
        _values = settings;
        Read();
    }

    /// <summary>The key under which an auto-prepared <paramref name="sql"/> may be shared: the text, after the settings that change how it parses.</summary>
    public string AutoPrepareKey(string sql)
    {
        var set = 0; // bit i: ParseSettings[i] is one of this client's settings
        foreach (var name in _values.Keys)
        {
            if (ParseSettingPlaces.TryGetValue(name, out var place))
                set |= 1 << place;
        }
        if (set == 0 && SessionAuthorization is null)
            return sql; // most clients set none of them (pgbench, psql: only application_name): then the key is the text
        var key = new StringBuilder();
        if (SessionAuthorization is not null)
            key.Append("user=").Append(SessionAuthorization).Append('\n'); // "$user" in search_path, and privileges
        for (var place = 0; place < ParseSettings.Length; place++)
        {
            if ((set & (1 << place)) != 0) // in ParseSettings' order: the same settings give one key, whatever order they were set in
                key.Append(ParseSettings[place]).Append('=').Append(_values[ParseSettings[place]]).Append('\n');
        }
        return key.Append(sql).ToString();
    }

    /// <summary>A setting name as SQL: as it is when it is a plain name, else quoted (the engine then refuses it, swallowed, instead of ZeroPg failing the client).</summary>
    private static string SettingName(string name)
        => name.All(c => char.IsLetterOrDigit(c) || c is '_' or '.') ? name : "\"" + name.Replace("\"", "\"\"") + "\"";

    private static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    /// <summary>The differences between the engine session's settings and this client's, and the role its statements run as.</summary>
    void ISessionState.WritePreamble(Preamble preamble)
    {
        var engine = preamble.Engine;
        if (engine.SettingsUnknown)
        {
            preamble.Add(["RESET ALL", .. RestoreSql(Empty) is { } all ? [all] : Array.Empty<string>()], () =>
            {
                engine.AppliedSettings = Copy();
                engine.SettingsUnknown = false;
            });
        }
        else if (RestoreSql(engine.AppliedSettings) is { } restore)
        {
            preamble.Add([restore], () => engine.AppliedSettings = Copy());
        }
        preamble.Identity = SessionAuthorization;
    }

    bool ISessionState.LeftBehind() => _unreadChanges;

    /// <summary>
    /// Settings this client changed and ZeroPg never read back: every setting goes back to its default (after the cleanup's
    /// ROLLBACK), and the engine state says so, so the next client's preamble sets all of its own.
    /// </summary>
    void ISessionState.WriteCleanup(SessionEnd end)
    {
        if (!_unreadChanges)
            return;
        end.Sql("RESET ALL");
        end.Engine.AppliedSettings = new(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The engine session's settings are the defaults again (<see cref="EngineSessionState.Reset"/>): the next batch's preamble sets this client's.</summary>
    RestartOutcome ISessionState.Restarted() => _values.Count == 0 && SessionAuthorization is null ? RestartOutcome.NothingHeld
        : RestartOutcome.Restored("settings and session authorization: set again at the head of the client's next batch");

    /// <summary>What the unit set is read back from pg_settings once it is final (a SET inside a transaction block may be rolled back).</summary>
    ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        if (unit.Effects.DiscardAllAnswered)
            Reset();
        Note(unit.Effects);
        TakeReported(unit);
        if (!Dirty || !unit.Settled)
            return ValueTask.CompletedTask;
        var engine = unit.Engine;
        if (_notByNameSinceRead)
        {
            readBack.Read(SnapshotSql(), reply =>
            {
                if (Failed(reply, engine))
                    return;
                ApplySnapshot(OwnSql.TextPairs(reply));
                engine.AppliedSettings = Copy();
                engine.SessionAuthorization = SessionAuthorization; // read back too: a superuser's SET SESSION AUTHORIZATION
            });
        }
        else if (ReadsBackByName)
        {
            readBack.Read(NamedSnapshotSql(), reply =>
            {
                if (Failed(reply, engine))
                    return;
                ApplyNamedSnapshot(reply.TextRows().Select(row => row.Columns));
                engine.AppliedSettings = Copy();
            });
        }
        else
        {
            Read(); // the startup settings only
        }
        return ValueTask.CompletedTask;
    }

    private static readonly Dictionary<string, string> Empty = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A read-back that failed (the client's own statement_timeout or lock_timeout cancelled it): read as "no settings" it made
    /// the engine state forget the client's statement_timeout=1, which the engine kept and every later client ran with (the
    /// fuzzer's witness got 57014). The engine's settings are unknown now, and this client's stay unread until its next unit.
    /// </summary>
    private static bool Failed(IReadOnlyList<byte[]> reply, EngineSessionState engine)
    {
        if (reply.Count > 0 && !reply.Any(m => m.Is(BackendCode.ErrorResponse)))
            return false;
        engine.SettingsUnknown = true;
        return true;
    }

    /// <summary>
    /// The client's DISCARD ALL, answered by ZeroPg, at its place in the batch: its settings go back to the defaults before the
    /// rest of the batch runs (a pool writes the reset in front of the next batch, which must see the defaults).
    /// </summary>
    public void WriteDiscardAll(EngineBatch batch, EngineSessionState engine)
    {
        if (ResetSql() is not { } reset)
            return;
        Protocol.Frontend.QueryMessage.Write(batch.Buffer, reset);
        batch.Plan.Expect(ExpectKind.Swallow, Protocol.FrontendCode.Query);
        batch.Sending += () => engine.AppliedSettings = new(StringComparer.OrdinalIgnoreCase);
    }
}
