using System.Text;

namespace ZeroPg.Sql;

internal enum SqlEditKind : byte
{
    /// <summary>UNLISTEN's channel: the engine keeps listening for the other clients.</summary>
    NoopChannel,
    /// <summary>A SQL-level prepared statement name: "name" becomes "zp&lt;pid&gt;_name" in the engine.</summary>
    PrefixName,
    /// <summary>pg_listening_channels(): the client's own channels.</summary>
    ListeningChannels,
    /// <summary>pg_advisory_xxx( becomes pg_temp.zp_advisory_xxx(pid, </summary>
    AdvisoryCall,
    AdvisoryCallWithoutArguments,
}

/// <summary>One replacement in a SQL text for the shared engine session; what replaces it depends on the client (<see cref="Apply"/>).</summary>
internal readonly record struct SqlEdit(int Start, int Length, SqlEditKind Kind, string? Function = null)
{
    public const string NoopChannel = "zeropg_noop_channel";

    /// <summary>The text with the edits applied for the client <paramref name="processId"/>; the same instance when there are none.</summary>
    public static string Apply(string sql, IReadOnlyList<SqlEdit> edits, int processId, Func<string[]>? listeningChannels)
    {
        if (edits.Count == 0)
            return sql;
        var builder = new StringBuilder(sql.Length + 32 * edits.Count);
        var position = 0;
        foreach (var edit in edits.OrderBy(e => e.Start))
        {
            builder.Append(sql, position, edit.Start - position).Append(edit.Replacement(sql, processId, listeningChannels));
            position = edit.Start + edit.Length;
        }
        return builder.Append(sql, position, sql.Length - position).ToString();
    }

    private string Replacement(string sql, int processId, Func<string[]>? listeningChannels) => Kind switch
    {
        SqlEditKind.NoopChannel => NoopChannel,
        SqlEditKind.PrefixName => sql[Start] == '"'
            ? $"\"zp{processId}_{sql.Substring(Start + 1, Length - 1)}"
            : $"zp{processId}_{sql.Substring(Start, Length).ToLowerInvariant()}",
        SqlEditKind.ListeningChannels => ChannelsSql(listeningChannels?.Invoke() ?? []),
        SqlEditKind.AdvisoryCall => $"pg_temp.{Function}({processId}, ",
        SqlEditKind.AdvisoryCallWithoutArguments => $"pg_temp.{Function}({processId}",
        _ => throw new InvalidOperationException($"unknown SQL edit {Kind}"),
    };

    private static string ChannelsSql(string[] channels)
        => $"unnest(ARRAY[{string.Join(", ", channels.Order(StringComparer.Ordinal).Select(c => "'" + c.Replace("'", "''") + "'"))}]::text[])";
}
