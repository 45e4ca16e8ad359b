using System.Globalization;
using System.Net;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>What one client is doing, as a row of pg_stat_activity shows it (immutable: replaced whole).</summary>
internal sealed record ActivitySnapshot(string State, string Query, DateTimeOffset? TransactionStart, DateTimeOffset? QueryStart,
    DateTimeOffset StateChange, bool WaitsForEngine, string ApplicationName);

/// <summary>
/// One client's row of pg_stat_activity: its state (active, idle, idle in transaction, idle in transaction (aborted)), its
/// current or last query, when its connection, transaction, query and state began, and what it waits for (the shared
/// engine, queued behind other clients: wait_event_type Lock, wait_event "ZeroPgEngine"; an advisory lock). The session
/// writes it (its thread only), twice for every unit; any session reads it for its pg_stat_activity (<see cref="ValuesSql"/>),
/// rarely. So the fields change in place under a lock, and a reader gets a consistent <see cref="ActivitySnapshot"/> made for it,
/// rather than the writer making a snapshot per change.
/// </summary>
internal sealed class SessionActivity(EndPoint? remote, Hosting.ZeroPgMetrics? metrics = null)
{
    private readonly Lock _lock = new();
    private string _state = "idle";
    private string _query = "";
    private DateTimeOffset? _transactionStart;
    private DateTimeOffset? _queryStart;
    private DateTimeOffset _stateChange = DateTimeOffset.UtcNow;
    private bool _waitsForEngine;
    private string _applicationName = "";

    public DateTimeOffset BackendStart { get; } = DateTimeOffset.UtcNow;

    public ActivitySnapshot Current
    {
        get
        {
            lock (_lock)
                return new ActivitySnapshot(_state, _query, _transactionStart, _queryStart, _stateChange, _waitsForEngine, _applicationName);
        }
    }

    /// <summary>The query of the client's current or last unit (the session's thread: no lock needed to read its own writes).</summary>
    public string Query => _query;

    /// <summary>A unit of the client's starts (queued for the engine when <paramref name="waits"/>).</summary>
    public void Running(string query, bool waits, string applicationName)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            _state = "active";
            _query = query;
            _transactionStart ??= now;
            _queryStart = now;
            _stateChange = now;
            _waitsForEngine = waits;
            _applicationName = applicationName;
        }
    }

    /// <summary>The unit got the engine.</summary>
    public void Engaged()
    {
        if (!_waitsForEngine)
            return;
        lock (_lock)
            _waitsForEngine = false;
    }

    /// <summary>The unit ended: the client is idle, in or out of a transaction.</summary>
    public void Idle(TransactionStatus status, string applicationName, string? query = null)
    {
        var now = DateTimeOffset.UtcNow;
        var state = status switch
        {
            TransactionStatus.InTransaction => "idle in transaction",
            TransactionStatus.Failed => "idle in transaction (aborted)",
            _ => "idle",
        };
        // A unit that ran (or one answered without the engine, which names its query) counts once for the dashboard's rates.
        if (_state == "active")
            metrics?.RecordStatement(now - (_queryStart ?? now));
        else if (query is not null)
            metrics?.RecordStatement(TimeSpan.Zero);
        lock (_lock)
        {
            _state = state;
            _query = query ?? _query;
            _transactionStart = status == TransactionStatus.Idle ? null : _transactionStart ?? now;
            _queryStart = query is null ? _queryStart : now;
            _stateChange = now;
            _waitsForEngine = false;
            _applicationName = applicationName;
        }
    }

    /// <summary>
    /// The rows of every connected client, as SQL VALUES with the columns
    /// (pid, datname, usename, application_name, client_addr, client_port, backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, state, query).
    /// </summary>
    public static string ValuesSql(SessionRegistry registry)
    {
        var sql = new StringBuilder("VALUES ");
        var first = true;
        foreach (var session in registry.Sessions.OrderBy(s => s.Identity.ProcessId))
        {
            var activity = session.Activity;
            var now = activity.Current;
            var (waitType, wait) = now.WaitsForEngine ? ("Lock", "ZeroPgEngine") : session.WaitsForAdvisoryLock ? ("Lock", "advisory") : (null, null);
            var (address, port) = activity.Client;
            sql.Append(first ? "" : ", ").Append('(')
                .Append(session.Identity.ProcessId.ToString(CultureInfo.InvariantCulture)).Append("::pg_catalog.int4, ")
                .Append(Text(session.Services.DatabaseName)).Append("::pg_catalog.name, ")
                .Append(Text(session.Identity.Role)).Append("::pg_catalog.name, ")
                .Append(Text(now.ApplicationName)).Append(", ")
                .Append(address is null ? "NULL" : Text(address)).Append("::pg_catalog.inet, ")
                .Append(port.ToString(CultureInfo.InvariantCulture)).Append("::pg_catalog.int4, ")
                .Append(Time(activity.BackendStart)).Append(", ")
                .Append(Time(now.TransactionStart)).Append(", ")
                .Append(Time(now.QueryStart)).Append(", ")
                .Append(Time(now.StateChange)).Append(", ")
                .Append(waitType is null ? "NULL" : Text(waitType)).Append("::pg_catalog.text, ")
                .Append(wait is null ? "NULL" : Text(wait)).Append("::pg_catalog.text, ")
                .Append(Text(now.State)).Append(", ")
                .Append(Text(now.Query)).Append(')');
            first = false;
        }
        return sql.ToString();
    }

    /// <summary>client_addr and client_port as Postgres shows them: a Unix socket has no address and port -1.</summary>
    public (string? Address, int Port) Client => remote is IPEndPoint ip
        ? ((ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address).ToString(), ip.Port)
        : (null, -1);

    private static string Text(string value) => SqlEdit.Literal(value) + "::pg_catalog.text";

    private static string Time(DateTimeOffset? value) => value is { } time
        ? "'" + time.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture) + "'::pg_catalog.timestamptz"
        : "NULL::pg_catalog.timestamptz";
}
