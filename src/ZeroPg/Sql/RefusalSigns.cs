using System.Buffers;
using System.Text.RegularExpressions;

namespace ZeroPg.Sql;

/// <summary>
/// What in a text ZeroPg refuses before it reaches the shared engine (<see cref="Sessions.RefusedStatements"/>): programs, files and
/// devices the engine must not touch, ZeroPg's own objects, the session authorization, other clients' names. Read from the one
/// analysis's tokens (<see cref="SqlAnalysis"/>), each once, when first asked.
/// </summary>
internal sealed partial class RefusalSigns(SqlAnalysis sql)
{
    private readonly SqlAnalysis _sql = sql;
    private readonly string _text = sql.Sql;
    private readonly ListView<SqlToken> _tokens = sql.Tokens;
    private readonly ListView<(int Start, int End)> _statements = sql.Statements;

    /// <summary>
    /// A statement is COPY ... TO PROGRAM / FROM PROGRAM: PGlite cannot start a program (WebAssembly has no
    /// processes) and never answers one, so ZeroPg refuses it before it reaches the shared engine.
    /// </summary>
    public bool RunsProgram
    {
        get
        {
            foreach (var (start, end) in _statements)
            {
                if (!_sql.IsWord(start, end, "COPY"))
                    continue;
                for (var i = start + 1; i + 1 < end; i++)
                {
                    if ((_tokens[i].IsWord(_text, "TO") || _tokens[i].IsWord(_text, "FROM")) && _tokens[i + 1].IsWord(_text, "PROGRAM"))
                        return true;
                }
            }
            return false;
        }
    }

    /// <summary>
    /// The text names one of ZeroPg's own objects in the engine session (<see cref="Sessions.AdvisoryLockSql.InternalPrefix"/>,
    /// in an identifier or inside a string or function body), or calls an advisory lock function qualified with pg_temp
    /// (ZeroPg's per-client ones, which take a client's process id): refused, so that no client reads or changes another's locks.
    /// </summary>
    public bool NamesZeroPgInternals
    {
        get
        {
            const string prefix = Sessions.AdvisoryLockSql.InternalPrefix;
            if (_text.AsSpan().IndexOfAny(InternalsSigns) < 0) // one vectorized pass for the text of nearly every statement
                return false;
            var mentionsInternal = _text.Contains(prefix, StringComparison.OrdinalIgnoreCase);
            for (var i = 0; i < _tokens.Count; i++)
            {
                var token = _tokens[i];
                if (mentionsInternal && token.Kind != SqlTokenKind.Number && token.Span(_text).Contains(prefix, StringComparison.OrdinalIgnoreCase))
                    return true;
                if (IsTempSchema(token) && i + 2 < _tokens.Count && _tokens[i + 1].IsPunct(_text, '.') && IsAdvisoryFunction(_tokens[i + 2]))
                    return true;
            }
            return false;
        }
    }

    private static readonly SearchValues<string> InternalsSigns = SearchValues.Create([Sessions.AdvisoryLockSql.InternalPrefix, "pg_temp"], StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The text names the session authorization anywhere: SET/RESET SESSION AUTHORIZATION, the
    /// session_authorization setting (as a name, or inside a string such as set_config's argument or a DO
    /// body's dynamic SQL). The shared engine session is authenticated as its superuser, which Postgres lets
    /// take any identity; a client whose login role is not a superuser must not (see <see cref="Sessions.RefusedStatements.SessionAuthorization"/>).
    /// </summary>
    public bool NamesSessionAuthorization
    {
        get
        {
            for (var i = 0; i < _tokens.Count; i++)
            {
                var token = _tokens[i];
                switch (token.Kind)
                {
                    case SqlTokenKind.Word when token.IsWord(_text, "SESSION_AUTHORIZATION"):
                    case SqlTokenKind.Word when token.IsWord(_text, "SESSION") && i + 1 < _tokens.Count && _tokens[i + 1].IsWord(_text, "AUTHORIZATION"):
                        return true;
                    case SqlTokenKind.QuotedIdentifier or SqlTokenKind.String or SqlTokenKind.DollarString when MentionsSessionAuthorization(token.Span(_text)):
                        return true;
                }
            }
            return false;
        }
    }

    private static bool MentionsSessionAuthorization(ReadOnlySpan<char> text)
    {
        var at = text.IndexOf("session", StringComparison.OrdinalIgnoreCase);
        while (at >= 0)
        {
            var rest = text[(at + "session".Length)..];
            var gap = 0;
            while (gap < rest.Length && (char.IsWhiteSpace(rest[gap]) || rest[gap] == '_'))
                gap++;
            if (gap > 0 && rest[gap..].StartsWith("authorization", StringComparison.OrdinalIgnoreCase))
                return true;
            var next = rest.IndexOf("session", StringComparison.OrdinalIgnoreCase);
            at = next < 0 ? -1 : at + "session".Length + next;
        }
        return false;
    }

    private string Unquoted(SqlToken token) => token.Kind == SqlTokenKind.QuotedIdentifier && token.Length >= 2
        ? _text.Substring(token.Start + 1, token.Length - 2).Replace("\"\"", "\"")
        : token.Text(_text).ToLowerInvariant();

    private bool IsTempSchema(SqlToken token)
    {
        if (token.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier))
            return false;
        var name = Unquoted(token);
        return name == "pg_temp" || (name.StartsWith("pg_temp_", StringComparison.Ordinal) && name.Length > 8 && name.AsSpan(8).IndexOfAnyExceptInRange('0', '9') < 0);
    }

    private bool IsAdvisoryFunction(SqlToken token)
        => token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier
            && Unquoted(token) is var name && (name.StartsWith("pg_advisory", StringComparison.Ordinal) || name.StartsWith("pg_try_advisory", StringComparison.Ordinal));

    /// <summary>
    /// A COPY to or from a device file, or a server-file function given one (<see cref="DeviceFiles"/>): reading /dev/random
    /// blocks PGlite forever. Only string constants are seen; a path built at run time is the watchdog's to stop.
    /// </summary>
    public bool UsesDeviceFile
    {
        get
        {
            // COPY and every name of DeviceFiles.FileFunctions hold one of the triggers: one vectorised pass instead of a
            // case-insensitive hash of each word of nearly every statement.
            if (!MentionsFiles)
                return false;
            foreach (var (start, end) in _statements)
            {
                var names = _sql.IsWord(start, end, "COPY");
                for (var i = start; i < end && !names; i++)
                {
                    if (_tokens[i].Kind == SqlTokenKind.Word && DeviceFiles.FileFunctions.Contains(_tokens[i].Span(_text)))
                        names = true;
                }
                if (!names)
                    continue;
                for (var i = start; i < end; i++)
                {
                    if (DeviceFiles.IsDevice(_text, _tokens[i]))
                        return true;
                }
            }
            return false;
        }
    }

    /// <summary>Functions that read or write files of the engine's file system (which is the data directory) or list it.</summary>
    private static readonly KeywordSet ServerFileFunctions = new(
        "PG_READ_FILE", "PG_READ_BINARY_FILE", "PG_STAT_FILE", "PG_LS_DIR", "PG_LS_LOGDIR", "PG_LS_WALDIR", "PG_LS_TMPDIR",
        "PG_LS_ARCHIVE_STATUSDIR", "PG_LS_LOGICALSNAPDIR", "PG_LS_LOGICALMAPDIR", "PG_LS_REPLSLOTDIR", "PG_LS_SUMMARIESDIR",
        "LO_IMPORT", "LO_EXPORT", "PG_FILE_WRITE", "PG_FILE_RENAME", "PG_FILE_UNLINK", "PG_FILE_SYNC", "PG_LOGDIR_LS");

    /// <summary>
    /// The same inside strings and dollar-quoted bodies (SQL a DO block or a function would run). Generated at build time: a
    /// Regex built at run time was parsed and analysed when the server's first statement was (this type's static fields).
    /// </summary>
    [GeneratedRegex(
        @"\b(pg_read_file|pg_read_binary_file|pg_stat_file|pg_ls_[a-z_]*dir|lo_import|lo_export|pg_file_[a-z]+|pg_logdir_ls)\s*\(|\bcopy\b[^;]*\b(to|from)\s+(e?'|\$[a-z_0-9]*\$)|\balter\s+system\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ServerFileText();

    /// <summary>
    /// A statement reaches the server's files: COPY to or from a file, the functions that read, write, list or stat files,
    /// server-side lo_import / lo_export, ALTER SYSTEM (postgresql.auto.conf); also spelled in a string or a dollar-quoted body
    /// (what a DO block or a function may run). The engine's file system is the data directory, so ZeroPg refuses them
    /// (<see cref="Sessions.RefusedStatements.ServerFiles"/>). SQL that builds such a statement at run time is not seen.
    /// </summary>
    public bool ReachesServerFiles => _reachesServerFiles ??= FindServerFileAccess();

    private bool? _reachesServerFiles;

    private static readonly SearchValues<string> ServerFileTriggers = SearchValues.Create(["FILE", "_LS_", "LO_", "DIR", "COPY", "SYSTEM"], StringComparison.OrdinalIgnoreCase);

    /// <summary>The text holds one of <see cref="ServerFileTriggers"/>: without one it reaches no file and names no device (searched once).</summary>
    private bool MentionsFiles => _mentionsFiles ??= _text.AsSpan().ContainsAny(ServerFileTriggers);

    private bool? _mentionsFiles;

    private bool FindServerFileAccess()
    {
        if (!MentionsFiles)
            return false;
        {
            foreach (var (start, end) in _statements)
            {
                if (_sql.IsWord(start, end, "ALTER") && _sql.IsWord(start + 1, end, "SYSTEM"))
                    return true;
                if (_sql.IsWord(start, end, "COPY") && CopiesToOrFromFile(start, end))
                    return true;
            }
            for (var i = 0; i < _tokens.Count; i++)
            {
                var token = _tokens[i];
                if (token.Kind == SqlTokenKind.Word && i + 1 < _tokens.Count && _tokens[i + 1].IsPunct(_text, '(') && ServerFileFunctions.Contains(token.Span(_text)))
                    return true;
                if (token.Kind is SqlTokenKind.String or SqlTokenKind.DollarString && ServerFileText().IsMatch(_text.AsSpan(token.Start, token.Length)))
                    return true;
            }
            return false;
        }
    }

    private bool CopiesToOrFromFile(int start, int end)
    {
        var depth = 0;
        for (var i = start + 1; i + 1 < end; i++)
        {
            var token = _tokens[i];
            if (token.IsPunct(_text, '('))
                depth++;
            else if (token.IsPunct(_text, ')'))
                depth--;
            else if (depth == 0 && (token.IsWord(_text, "TO") || token.IsWord(_text, "FROM")) && IsFileName(i + 1, end))
                return true;
        }
        return false;
    }

    /// <summary>A string literal at <paramref name="i"/>, E'...' and U&amp;'...' included (the lexer makes their prefix a word of its own).</summary>
    private bool IsFileName(int i, int end)
    {
        if (_tokens[i].Kind is SqlTokenKind.String or SqlTokenKind.DollarString)
            return true;
        return _tokens[i].Kind == SqlTokenKind.Word && i + 1 < end && _tokens[i + 1].Kind == SqlTokenKind.String && _tokens[i].End == _tokens[i + 1].Start;
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9_$])zp([0-9]{1,9})_", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AsideName();

    private IReadOnlyList<int>? _asidePids;

    /// <summary>
    /// The process ids in names of the form "zp&lt;pid&gt;_..." the text mentions (identifiers, and strings such as
    /// 'name'::regclass or a DO block's body): how ZeroPg names other clients' temp relations while they are put aside
    /// (<see cref="Sessions.TempRelations"/>). Names ZeroPg itself rewrites into the client's own namespace (cursors,
    /// statements) are not counted.
    /// </summary>
    public IReadOnlyList<int> AsideNamePids => _asidePids ??= FindAsideNamePids();

    // Vectorized: string.IndexOf with OrdinalIgnoreCase is a scalar loop under invariant globalization (~140 against ~8 ns
    // for a pgbench statement), ~1.5 % of the server's samples under pgbench -S, since every Query's text is searched.
    private static readonly SearchValues<string> AsideNameSign = SearchValues.Create(["zp"], StringComparison.OrdinalIgnoreCase);

    private IReadOnlyList<int> FindAsideNamePids()
    {
        if (_text.AsSpan().IndexOfAny(AsideNameSign) < 0)
            return [];
        var rewritten = _sql.Edits.Where(e => e.Kind is SqlEditKind.CursorName || e.IsStatementName).Select(e => e.Start).ToHashSet();
        var pids = new List<int>();
        foreach (var token in _tokens)
        {
            if (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier or SqlTokenKind.String or SqlTokenKind.DollarString
                && !rewritten.Contains(token.Start))
            {
                foreach (Match match in AsideName().Matches(_text.Substring(token.Start, token.Length)))
                {
                    if (int.TryParse(match.Groups[1].ValueSpan, out var pid) && !pids.Contains(pid))
                        pids.Add(pid);
                }
            }
        }
        return pids;
    }
}
