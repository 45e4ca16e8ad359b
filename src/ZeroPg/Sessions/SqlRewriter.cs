using System.Text;

namespace ZeroPg.Sessions;

/// <summary>What a client's SQL does to session state that ZeroPg keeps per client.</summary>
internal sealed class SqlEffects
{
    public bool SettingsChanged { get; set; }
    public bool TempObjectsChanged { get; set; }
    public bool UsesAdvisoryLocks { get; set; }
    /// <summary>A simple Query ran DISCARD ALL / DEALLOCATE ALL in the engine (the extended protocol is tracked at Execute).</summary>
    public bool DeallocatesAll { get; set; }
    /// <summary>DISCARD ALL / TEMP ran in the engine (not answered by ZeroPg): every client's temp objects are gone.</summary>
    public bool DropsAllTemp { get; set; }
    /// <summary>DISCARD ALL ran in the engine: it also unlistened every channel.</summary>
    public bool UnlistensEngine { get; set; }
    /// <summary>A Query that was exactly DISCARD ALL / DEALLOCATE ALL, answered by ZeroPg for this client only.</summary>
    public bool DiscardAllAnswered { get; set; }
    public bool DeallocateAllAnswered { get; set; }
    public List<string> Listen { get; } = [];
    /// <summary>Extensions the SQL creates or updates (CREATE / ALTER EXTENSION): their files are loaded into the engine first.</summary>
    public List<string> Extensions { get; } = [];

    /// <summary>Custom (dotted) setting names the SQL sets: Postgres does not list them in pg_settings.</summary>
    public List<string> CustomSettings { get; } = [];
    public List<string> Unlisten { get; } = [];
    public bool UnlistenAll { get; set; }

    /// <summary>The SQL touches no per-client state at all.</summary>
    public bool IsEmpty => !(SettingsChanged || TempObjectsChanged || UsesAdvisoryLocks || DeallocatesAll || UnlistenAll || DiscardAllAnswered
        || DeallocateAllAnswered || DropsAllTemp || UnlistensEngine) && Listen.Count == 0 && Unlisten.Count == 0 && CustomSettings.Count == 0 && Extensions.Count == 0;

    public void Clear()
    {
        SettingsChanged = TempObjectsChanged = UsesAdvisoryLocks = DeallocatesAll = UnlistenAll = DiscardAllAnswered = DeallocateAllAnswered = DropsAllTemp = UnlistensEngine = false;
        Listen.Clear();
        Unlisten.Clear();
        CustomSettings.Clear();
        Extensions.Clear();
    }
}

/// <summary>
/// Rewrites a client's SQL for the shared engine session: SQL-level prepared statement names get the
/// client's prefix, UNLISTEN leaves the engine listening (ZeroPg filters per client), and session
/// advisory lock functions become ZeroPg's per-client ones. Notes what else changes session state.
/// </summary>
internal static class SqlRewriter
{
    public const string NoopChannel = "zeropg_noop_channel";

    private static readonly string[] Triggers = ["SET", "LISTEN", "PREPARE", "EXECUTE", "DEALLOCATE", "ADVISORY", "TEMP", "DROP", "DISCARD", "EXTENSION"];

    private static readonly Dictionary<string, string> AdvisoryFunctions = new(StringComparer.Ordinal)
    {
        ["PG_ADVISORY_LOCK"] = "zp_advisory_lock",
        ["PG_ADVISORY_LOCK_SHARED"] = "zp_advisory_lock_shared",
        ["PG_TRY_ADVISORY_LOCK"] = "zp_try_advisory_lock",
        ["PG_TRY_ADVISORY_LOCK_SHARED"] = "zp_try_advisory_lock_shared",
        ["PG_ADVISORY_UNLOCK"] = "zp_advisory_unlock",
        ["PG_ADVISORY_UNLOCK_SHARED"] = "zp_advisory_unlock_shared",
        ["PG_ADVISORY_UNLOCK_ALL"] = "zp_advisory_unlock_all",
    };

    /// <summary>The SQL to send to the engine (the same instance when nothing changes); fills <paramref name="effects"/>.</summary>
    public static string Rewrite(string sql, int processId, SqlEffects effects, Func<string[]>? listeningChannels = null)
    {
        if (!MayMatter(sql))
            return sql;
        Engine.ExtensionStatements.Find(sql, effects.Extensions);
        var tokens = SqlText.Tokens(sql).ToList();
        var edits = new List<(int Start, int Length, string Text)>();
        var statementStart = 0;
        for (var i = 0; i <= tokens.Count; i++)
        {
            if (i == tokens.Count || tokens[i].Text == ";")
            {
                Statement(sql, tokens, statementStart, i, processId, effects, edits, listeningChannels);
                statementStart = i + 1;
            }
        }
        if (edits.Count == 0)
            return sql;
        var builder = new StringBuilder(sql.Length + 32 * edits.Count);
        var position = 0;
        foreach (var (start, length, text) in edits.OrderBy(e => e.Start))
        {
            builder.Append(sql, position, start - position).Append(text);
            position = start + length;
        }
        return builder.Append(sql, position, sql.Length - position).ToString();
    }

    private static bool MayMatter(string sql)
    {
        foreach (var trigger in Triggers)
        {
            if (sql.Contains(trigger, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    private static void Statement(string sql, List<SqlText.Token> tokens, int start, int end, int processId, SqlEffects effects,
        List<(int, int, string)> edits, Func<string[]>? listeningChannels)
    {
        if (start >= end)
            return;
        string Word(int index) => index < end ? tokens[index].Text : "";
        switch (Word(start))
        {
            case "SET" or "RESET":
                effects.SettingsChanged = true;
                var first = Word(start + 1) is "LOCAL" or "SESSION" ? start + 2 : start + 1;
                if (first + 2 < end && tokens[first + 1].Text == ".")
                    effects.CustomSettings.Add($"{Identifier(sql, tokens[first])}.{Identifier(sql, tokens[first + 2])}");
                break;
            case "DISCARD":
                effects.SettingsChanged = true;
                effects.TempObjectsChanged = true;
                effects.DropsAllTemp = Word(start + 1) is "ALL" or "TEMP" or "TEMPORARY";
                effects.UnlistensEngine = Word(start + 1) == "ALL";
                break;
            case "LISTEN" when start + 1 < end:
                effects.Listen.Add(Identifier(sql, tokens[start + 1]));
                break;
            case "UNLISTEN" when start + 1 < end:
                if (Word(start + 1) == "*")
                    effects.UnlistenAll = true;
                else
                    effects.Unlisten.Add(Identifier(sql, tokens[start + 1]));
                edits.Add((tokens[start + 1].Start, tokens[start + 1].Length, NoopChannel));
                break;
            case "PREPARE" or "EXECUTE" when start + 1 < end:
                edits.Add(PrefixName(sql, tokens[start + 1], processId));
                break;
            case "DEALLOCATE":
                var name = Word(start + 1) == "PREPARE" ? start + 2 : start + 1;
                if (name < end && Word(name) != "ALL")
                    edits.Add(PrefixName(sql, tokens[name], processId));
                break;
            case "DROP":
                effects.TempObjectsChanged = true;
                break;
        }
        for (var i = start; i < end; i++)
        {
            var word = tokens[i].Text;
            if (word is "TEMP" or "TEMPORARY")
                effects.TempObjectsChanged = true;
            else if (word == "SET_CONFIG")
            {
                effects.SettingsChanged = true;
                if (i + 2 < end && tokens[i + 1].Text == "(" && tokens[i + 2].Text == "'")
                {
                    var literal = sql.Substring(tokens[i + 2].Start + 1, tokens[i + 2].Length - 2).Replace("''", "'");
                    if (literal.Contains('.'))
                        effects.CustomSettings.Add(literal.ToLowerInvariant());
                }
            }
            else if (word == "PG_LISTENING_CHANNELS" && i + 2 < end && tokens[i + 1].Text == "(" && tokens[i + 2].Text == ")")
            {
                // The engine listens on every client's channels; a client sees its own.
                var from = i >= 2 && tokens[i - 1].Text == "." && tokens[i - 2].Text == "PG_CATALOG" ? tokens[i - 2].Start : tokens[i].Start;
                edits.Add((from, tokens[i + 2].Start + 1 - from, ChannelsSql(listeningChannels?.Invoke() ?? [])));
            }
            else if (AdvisoryFunctions.TryGetValue(word, out var replacement) && i + 1 < end && tokens[i + 1].Text == "(")
            {
                effects.UsesAdvisoryLocks = true;
                var noArguments = i + 2 < end && tokens[i + 2].Text == ")";
                var qualified = i >= 2 && tokens[i - 1].Text == "." && tokens[i - 2].Text == "PG_CATALOG";
                var from = qualified ? tokens[i - 2].Start : tokens[i].Start;
                edits.Add((from, tokens[i + 1].Start + 1 - from, $"pg_temp.{replacement}({processId}{(noArguments ? "" : ", ")}"));
            }
        }
    }

    private static string ChannelsSql(string[] channels)
        => $"unnest(ARRAY[{string.Join(", ", channels.Order(StringComparer.Ordinal).Select(c => "'" + c.Replace("'", "''") + "'"))}]::text[])";

    private static string Identifier(string sql, SqlText.Token token)
        => token.Text == "\"" ? sql.Substring(token.Start + 1, token.Length - 2).Replace("\"\"", "\"") : token.Text.ToLowerInvariant();

    /// <summary>SQL PREPARE names are per client: "name" becomes "zp&lt;pid&gt;_name" in the engine.</summary>
    private static (int, int, string) PrefixName(string sql, SqlText.Token token, int processId)
        => token.Text == "\""
            ? (token.Start, token.Length, $"\"zp{processId}_{sql.Substring(token.Start + 1, token.Length - 1)}")
            : (token.Start, token.Length, $"zp{processId}_{sql.Substring(token.Start, token.Length).ToLowerInvariant()}");
}
