using System.Text;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// Per-client temporary tables. The engine has one pg_temp schema, so a client's temp relations keep
/// their own names only while it holds the engine; when another client takes over they are renamed
/// aside (zp&lt;pid&gt;_name) and back. They are dropped when the client disconnects.
/// </summary>
internal sealed partial class ClientSession
{
    private const string DiscoverSql = """
        SELECT relname, relkind::text FROM pg_catalog.pg_class
        WHERE relnamespace = pg_catalog.pg_my_temp_schema() AND relkind IN ('r','p','v','m','S','i','f')
          AND relname !~ '^zp[0-9]+_' AND relname <> 'zp_advisory_locks'
        """;

    private List<(string Name, char Kind)> _tempRelations = [];
    private bool _tempDirty;

    private string Aside(string name) => $"zp{ProcessId}_{name}";

    private async Task DiscoverTempRelationsAsync()
    {
        await RunCapturedAsync(DiscoverSql);
        var found = new List<(string, char)>();
        foreach (var row in _forwarder.Captured.Where(m => m[0] == (byte)BackendCode.DataRow))
        {
            var (name, kind) = ReadTwoColumns(row);
            found.Add((name, kind[0]));
        }
        _tempRelations = found;
        _tempDirty = false;
        if (found.Count > 0)
            _services.EngineState.TempOwner = this;
    }

    /// <summary>Called with the engine just acquired: put the previous client's temp relations aside and bring ours back.</summary>
    private async Task SwapTempRelationsAsync()
    {
        var state = _services.EngineState;
        if (state.TempOwner == this)
            return;
        var renames = new List<string>();
        if (state.TempOwner is { } previous)
        {
            foreach (var (name, _) in previous._tempRelations)
                renames.Add($"ALTER TABLE pg_temp.{Identifier(name)} RENAME TO {Identifier(previous.Aside(name))}");
        }
        foreach (var (name, _) in _tempRelations)
            renames.Add($"ALTER TABLE pg_temp.{Identifier(Aside(name))} RENAME TO {Identifier(name)}");
        state.TempOwner = _tempRelations.Count > 0 ? this : null;
        await RunHousekeepingAsync(renames);
    }

    /// <summary>SQL that drops this departing client's temp relations, wherever they are named now.</summary>
    private string? DropTempRelationsSql()
    {
        if (_tempRelations.Count == 0)
            return null;
        var own = _services.EngineState.TempOwner == this;
        var sql = new StringBuilder();
        foreach (var (name, kind) in _tempRelations)
        {
            var target = Identifier(own ? name : Aside(name));
            var what = kind switch { 'v' => "VIEW", 'm' => "MATERIALIZED VIEW", 'S' => "SEQUENCE", 'f' => "FOREIGN TABLE", 'i' => null, _ => "TABLE" };
            if (what is not null)
                sql.Append($"DROP {what} IF EXISTS pg_temp.{target} CASCADE;");
        }
        if (own)
            _services.EngineState.TempOwner = null;
        _tempRelations = [];
        return sql.ToString();
    }

    private async Task RunCapturedAsync(string sql)
    {
        var batch = new BatchBuffer();
        Protocol.Frontend.QueryMessage.Write(batch, sql);
        await ExecuteAsync(batch.Frame(Engine.HostRequestKind.Batch, batch.MessageBytes), ReplyMode.Capture);
    }

    private static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";
}
