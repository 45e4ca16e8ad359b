namespace ZeroPg.Engine.Pooled;

/// <summary>
/// Which statements leave state in a backend's session beyond their transaction: SQL PREPARE, temp relations, cursors WITH
/// HOLD, session advisory locks, LISTEN, LOAD and SET SESSION AUTHORIZATION.
/// A client that runs one keeps its backend from then on (<see cref="PooledClient"/>: pinned), so the state stays where it
/// was made; the backend is closed when the client leaves. Settings (SET, RESET, set_config, DISCARD) and SET ROLE pin
/// nothing: they only mark the client's settings to be read back (<see cref="PooledSettings"/>), which every backend it gets is given.
/// The scan is lexical and errs towards pinning: strings, quoted names and comments are skipped, words are compared whole.
/// </summary>
internal static class SessionPins
{
    /// <summary>
    /// Every word <see cref="Reason(List{string})"/> and <see cref="ChangesSettings"/> look for contains one of these (case aside),
    /// but a statement's leading SET (<see cref="MaySet"/>).
    /// </summary>
    private static readonly System.Buffers.SearchValues<string> Triggers = System.Buffers.SearchValues.Create(
        ["set_config", "reset", "prepare", "listen", "load", "declare", "temp", "advisory_lock", "discard", "do", "call", "execute"], StringComparison.OrdinalIgnoreCase);

    /// <summary>What in <paramref name="sql"/> (one or more statements) needs a session of its own, or null.</summary>
    public static string? Reason(ReadOnlySpan<char> sql) => Reason(sql, out _);

    /// <summary>
    /// What in <paramref name="sql"/> needs a session of its own, or null; <paramref name="changesSettings"/>: a statement of it
    /// may change the session's settings (SET other than LOCAL, RESET, set_config, DISCARD, and code the scan cannot see into:
    /// DO, CALL, EXECUTE), in the same scan.
    /// </summary>
    public static string? Reason(ReadOnlySpan<char> sql, out bool changesSettings)
    {
        changesSettings = false;
        if (!sql.ContainsAny(Triggers) && !MaySet(sql))
            return null; // most statements: no word below can be in them, and the scan's words are not made
        var words = new List<string>(8);
        var position = 0;
        while (position <= sql.Length)
        {
            words.Clear();
            position = ReadStatement(sql, position, words);
            changesSettings |= ChangesSettings(words);
            if (Reason(words) is { } reason)
                return reason;
            if (position >= sql.Length)
                break;
        }
        return null;
    }

    /// <summary>
    /// A statement of <paramref name="sql"/> may begin with SET. Not when the text is one statement (a trailing semicolon aside)
    /// that begins with another word: an UPDATE's SET (three of TPC-B's seven statements) is no session's.
    /// </summary>
    private static bool MaySet(ReadOnlySpan<char> sql)
    {
        if (sql.IndexOf("set", StringComparison.OrdinalIgnoreCase) < 0)
            return false;
        var text = sql.Trim();
        if (text.IsEmpty || !char.IsAsciiLetter(text[0]) || text.TrimEnd(';').TrimEnd().Contains(';'))
            return true; // a comment first, or more statements (or a semicolon in a literal): the scan decides
        var firstWord = text.Length;
        for (var i = 0; i < text.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '$'))
            {
                firstWord = i;
                break;
            }
        }
        return text[..firstWord].Equals("set", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// <paramref name="sql"/> may change what a login reads of a role (CREATE, ALTER or DROP ROLE, USER or GROUP, and DO, CALL or
    /// EXECUTE, which the scan cannot see into): the pool's <see cref="LoginRoleCache"/> forgets its roles.
    /// </summary>
    public static bool MayChangeRoles(ReadOnlySpan<char> sql)
    {
        if (!sql.ContainsAny(RoleTriggers))
            return false;
        var words = new List<string>(8);
        var position = 0;
        while (position < sql.Length)
        {
            words.Clear();
            position = ReadStatement(sql, position, words);
            if (words.Count > 0 && (words[0] is "do" or "call" or "execute"
                || (words[0] is "create" or "alter" or "drop" && words.Count > 1 && words[1] is "role" or "user" or "group")))
                return true;
        }
        return false;
    }

    private static readonly System.Buffers.SearchValues<string> RoleTriggers = System.Buffers.SearchValues.Create(
        ["role", "user", "group", "do", "call", "execute"], StringComparison.OrdinalIgnoreCase);

    private static bool ChangesSettings(List<string> words)
    {
        if (words.Count == 0)
            return false;
        return words[0] switch
        {
            "set" => words.Count < 2 || words[1] is not ("local" or "transaction" or "constraints"),
            "reset" or "discard" or "do" or "call" or "execute" => true,
            _ => words.Contains("set_config"),
        };
    }

    /// <summary>
    /// <paramref name="sql"/> is DISCARD ALL and nothing else: it removes all of a session's state (Npgsql sends it when a pooled
    /// connection is reused), so a client that ran it outside a transaction is lent per transaction again.
    /// </summary>
    public static bool IsDiscardAll(ReadOnlySpan<char> sql)
    {
        var words = new List<string>(4);
        var position = 0;
        var seen = false;
        while (position < sql.Length)
        {
            words.Clear();
            position = ReadStatement(sql, position, words);
            if (words.Count == 0)
                continue;
            if (words is not ["discard", "all"])
                return false;
            seen = true;
        }
        return seen;
    }

    private static string? Reason(List<string> words)
    {
        if (words.Count == 0)
            return null;
        var second = words.Count > 1 ? words[1] : "";
        var third = words.Count > 2 ? words[2] : "";
        switch (words[0])
        {
            // SET [SESSION] SESSION AUTHORIZATION: a backend cannot be given it (only its login superuser may, and a reset
            // would undo the client's); the client keeps its backend. SET ROLE is read back as a setting (PooledSettings).
            case "set" when second == "session_authorization" || (second == "session" && third is "session" or "authorization"):
                return "SET SESSION AUTHORIZATION";
            case "prepare" when second != "transaction":
                return "PREPARE";
            case "listen":
                return "LISTEN";
            case "load":
                return "LOAD";
            case "declare" when words.Contains("hold"):
                return "a cursor WITH HOLD";
        }
        foreach (var word in words)
        {
            if (word is "temp" or "temporary")
                return "a temporary relation";
            if (word.StartsWith("pg_advisory_lock", StringComparison.Ordinal) || word.StartsWith("pg_try_advisory_lock", StringComparison.Ordinal))
                return "a session advisory lock";
        }
        return null;
    }

    /// <summary>Every word a check above compares with (lower case): a word of these is not allocated, nor any other (<see cref="OtherWord"/>).</summary>
    private static readonly HashSet<string> Vocabulary = new(
        ["set", "local", "transaction", "constraints", "reset", "discard", "all", "do", "call", "execute", "set_config", "create", "alter",
         "drop", "role", "user", "group", "session_authorization", "session", "authorization", "prepare", "listen", "load", "declare",
         "hold", "temp", "temporary"], StringComparer.Ordinal);

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> VocabularyLookup = Vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Stands for a word no check looks for (a table's name, a column's: most words), so a scan allocates none.</summary>
    private const string OtherWord = "\0";

    /// <summary>The word lower-cased: a string of <see cref="Vocabulary"/>, <see cref="OtherWord"/>, or (an advisory lock's function) its own.</summary>
    private static string Word(ReadOnlySpan<char> word)
    {
        Span<char> lower = stackalloc char[32];
        if (word.Length > lower.Length)
            return word.ToString().ToLowerInvariant() is var longWord && IsAdvisoryLock(longWord) ? longWord : OtherWord;
        lower = lower[..word.ToLowerInvariant(lower)];
        if (VocabularyLookup.TryGetValue(lower, out var known))
            return known;
        return IsAdvisoryLock(lower) ? lower.ToString() : OtherWord;
    }

    private static bool IsAdvisoryLock(ReadOnlySpan<char> word) => word.StartsWith("pg_advisory_lock") || word.StartsWith("pg_try_advisory_lock");

    /// <summary>The lower-cased words of the statement at <paramref name="start"/> (<see cref="Word"/>); returns where the next one starts.</summary>
    private static int ReadStatement(ReadOnlySpan<char> sql, int start, List<string> words)
    {
        var i = start;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == ';')
                return i + 1;
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql[i..].IndexOf('\n');
                i = end < 0 ? sql.Length : i + end + 1;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
                i = SkipBlockComment(sql, i);
            else if (c is '\'' or '"')
                i = SkipQuoted(sql, i, c, backslashes: c == '\'' && i > 0 && sql[i - 1] is 'e' or 'E');
            else if (c == '$' && DollarTag(sql, i) is { Length: > 0 } tag)
            {
                var end = sql[(i + tag.Length)..].IndexOf(tag);
                i = end < 0 ? sql.Length : i + tag.Length + end + tag.Length;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var begin = i;
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] is '_' or '$'))
                    i++;
                if (i < sql.Length && sql[i] == '\'' && (i - begin == 1))
                    continue; // E'...' and friends: the quote is read next
                words.Add(Word(sql[begin..i]));
            }
            else
                i++;
        }
        return sql.Length + 1;
    }

    private static int SkipBlockComment(ReadOnlySpan<char> sql, int i)
    {
        var depth = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && i + 1 < sql.Length && sql[i + 1] == '/')
            {
                i += 2;
                if (--depth == 0)
                    return i;
            }
            else
                i++;
        }
        return i;
    }

    private static int SkipQuoted(ReadOnlySpan<char> sql, int i, char quote, bool backslashes)
    {
        i++;
        while (i < sql.Length)
        {
            if (backslashes && sql[i] == '\\')
                i += 2;
            else if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                    i += 2;
                else
                    return i + 1;
            }
            else
                i++;
        }
        return i;
    }

    /// <summary>$tag$ at <paramref name="i"/>, or empty when the dollar starts no dollar quote ($1, a name's $).</summary>
    private static ReadOnlySpan<char> DollarTag(ReadOnlySpan<char> sql, int i)
    {
        var j = i + 1;
        while (j < sql.Length && (char.IsAsciiLetterOrDigit(sql[j]) || sql[j] == '_'))
            j++;
        if (j >= sql.Length || sql[j] != '$' || (j > i + 1 && char.IsAsciiDigit(sql[i + 1])))
            return [];
        return sql[i..(j + 1)];
    }
}
