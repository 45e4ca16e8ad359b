using System.Buffers.Binary;
using System.Text;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// Per-client session settings. After a client's unit that may have changed settings (SET, RESET,
/// set_config, DISCARD) ends outside a transaction, ZeroPg reads what the engine session now holds
/// (pg_settings with source 'session'); when another client takes the engine, the differences are
/// applied before its unit. Rolled-back SETs are thus followed, and reported settings reach only the
/// client that changed them.
/// </summary>
internal sealed partial class ClientSession
{
    private const string SnapshotSql = "SELECT name, setting FROM pg_catalog.pg_settings WHERE source = 'session'";
    private static readonly string[] NotSettings = ["user", "database", "options", "replication"];

    private Dictionary<string, string> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _customSettingNames = new(StringComparer.OrdinalIgnoreCase);
    private bool _settingsDirty;

    /// <summary>Startup parameters and `options=-c name=value` become this client's initial settings.</summary>
    private void InitializeSettings(IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            if (!NotSettings.Contains(name) && !name.StartsWith("_pq_.", StringComparison.Ordinal))
                _settings[name] = value;
        }
        if (parameters.TryGetValue("options", out var options))
        {
            foreach (var (name, value) in StartupOptions.Parse(options))
                _settings[name] = value;
        }
        foreach (var name in _settings.Keys.Where(n => n.Contains('.')))
            _customSettingNames.Add(name);
        _settingsDirty = _settings.Count > 0;
    }

    private async Task RestoreSettingsAsync()
    {
        var state = _services.EngineState;
        var applied = state.AppliedSettings;
        var sql = new StringBuilder();
        foreach (var name in applied.Keys.Where(n => !_settings.ContainsKey(n)))
            sql.Append("RESET ").Append(SettingName(name)).Append(';');
        var sets = _settings.Where(s => !applied.TryGetValue(s.Key, out var v) || v != s.Value).ToList();
        if (sets.Count > 0)
            sql.Append("SELECT ").AppendJoin(", ", sets.Select(s => $"pg_catalog.set_config({Literal(s.Key)}, {Literal(s.Value)}, false)")).Append(';');
        if (sql.Length == 0)
            return;
        var batch = new BatchBuffer();
        QueryMessage.Write(batch, sql.ToString());
        await ExecuteAsync(batch.Frame(HostRequestKind.Batch, batch.MessageBytes), ReplyMode.Discard);
        state.AppliedSettings = new Dictionary<string, string>(_settings, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Reads the engine session's settings back after this client may have changed them.</summary>
    private async Task SnapshotSettingsAsync()
    {
        var batch = new BatchBuffer();
        var sql = SnapshotSql;
        if (_customSettingNames.Count > 0)
        {
            // Placeholder (dotted) settings are not in pg_settings; ask for the ones this client set.
            var names = string.Join(", ", _customSettingNames.Select(Literal));
            sql += $" UNION ALL SELECT n, current_setting(n, true) FROM unnest(ARRAY[{names}]::text[]) n WHERE coalesce(current_setting(n, true), '') <> ''";
        }
        QueryMessage.Write(batch, sql);
        await ExecuteAsync(batch.Frame(HostRequestKind.Batch, batch.MessageBytes), ReplyMode.Capture);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var message in _forwarder.Captured.Where(m => m[0] == (byte)BackendCode.DataRow))
        {
            var (name, value) = ReadTwoColumns(message);
            settings[name] = value;
        }
        _settings = settings;
        _services.EngineState.AppliedSettings = new Dictionary<string, string>(settings, StringComparer.OrdinalIgnoreCase);
        _settingsDirty = false;
    }

    private static (string, string) ReadTwoColumns(byte[] dataRow)
    {
        var span = dataRow.AsSpan(7); // type, length, column count
        var first = BinaryPrimitives.ReadInt32BigEndian(span);
        var name = Encoding.UTF8.GetString(span.Slice(4, first));
        span = span[(4 + first)..];
        var second = BinaryPrimitives.ReadInt32BigEndian(span);
        return (name, second < 0 ? "" : Encoding.UTF8.GetString(span.Slice(4, second)));
    }

    private static string SettingName(string name)
        => name.All(c => char.IsLetterOrDigit(c) || c is '_' or '.') ? name : throw new PgErrorException(PgError.Error(SqlState.ProtocolViolation, $"invalid setting name \"{name}\""));

    private static string Literal(string value) => "'" + value.Replace("'", "''") + "'";
}
