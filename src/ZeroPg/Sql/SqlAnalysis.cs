namespace ZeroPg.Sql;

/// <summary>
/// One SQL text (a simple Query's, or a Parse's statement), lexed once and analysed once where the
/// client's message is accepted, then passed along: its statements, what they do to the session state
/// ZeroPg keeps per client (<see cref="Effects"/>), whether it may change the schema, be pipelined, be
/// answered or deferred by ZeroPg, be auto-prepared (<see cref="TryParameterize"/>), and how it is
/// rewritten for the shared engine session (<see cref="Rewrite"/>). Immutable once built, so a
/// statement's analysis may be shared (<see cref="Sessions.Statements.EngineStatement"/>).
/// </summary>
internal sealed class SqlAnalysis
{
    private static readonly KeywordSet PipelineLeading = new("SELECT", "VALUES", "TABLE", "WITH", "INSERT", "UPDATE", "DELETE");

    /// <summary>Transaction control and session-level statements, wherever they appear, make a unit unsafe to pipeline.</summary>
    private static readonly KeywordSet PipelineDenied = new(
        "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE", "EXECUTE", "DEALLOCATE",
        "LISTEN", "UNLISTEN", "NOTIFY", "PG_NOTIFY", "SET_CONFIG", "RESET", "DISCARD", "TEMP", "TEMPORARY", "LOCK", "COPY",
        "CALL", "DO", "CREATE", "DROP", "ALTER", "DECLARE", "FETCH", "MOVE", "CLOSE", "LOAD", "CURSOR");

    /// <summary>Statements that cannot change which table a name means or what columns it has.</summary>
    private static readonly KeywordSet KeepsSchema = new(
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
        "ABORT", "SAVEPOINT", "RELEASE", "SET", "RESET", "SHOW", "PREPARE", "EXECUTE", "DEALLOCATE", "LISTEN", "UNLISTEN",
        "NOTIFY", "FETCH", "CLOSE", "DECLARE", "MOVE", "COPY", "LOCK", "CHECKPOINT", "ANALYZE", "VACUUM");

    private static readonly KeywordSet TransactionEnds = new("COMMIT", "END", "ROLLBACK", "ABORT");

    /// <summary>Statements that cannot take a transaction id (so cannot write): transaction control, settings, SHOW.</summary>
    private static readonly KeywordSet TransactionControl = new(
        "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET", "RESET", "SHOW");
    private static readonly KeywordSet WorkOrTransaction = new("WORK", "TRANSACTION");

    private readonly List<SqlToken> _tokens;
    private readonly List<(int Start, int End)> _statements = [];
    private ParameterizedQuery? _parameterized;
    private bool _parameterizeTried;

    private SqlAnalysis(string sql)
    {
        Sql = sql;
        _tokens = new List<SqlToken>(Math.Min(sql.Length / 3 + 4, 1024));
        Doubts = SqlLexer.Lex(sql, _tokens);
        var start = 0;
        for (var i = 0; i <= _tokens.Count; i++)
        {
            if (i == _tokens.Count || _tokens[i].IsPunct(sql, ';'))
            {
                _statements.Add((start, i));
                start = i + 1;
            }
        }
        (Effects, Edits) = SqlEffectsScanner.Scan(this);
    }

    public static SqlAnalysis Of(string sql) => new(sql);

    private DatabaseStatement? _databaseCommand;
    private bool _databaseCommandRead;

    /// <summary>CREATE / DROP DATABASE or ALTER DATABASE ... RENAME among the statements, which ZeroPg answers itself (read once, when first asked).</summary>
    public DatabaseStatement? DatabaseCommand
    {
        get
        {
            if (!_databaseCommandRead)
            {
                _databaseCommand = IsWellFormed ? DatabaseStatement.Find(this) : null;
                _databaseCommandRead = true;
            }
            return _databaseCommand;
        }
    }

    private ClientEncodingStatement? _clientEncodingCommand;
    private bool _clientEncodingCommandRead;

    /// <summary>SET / RESET / SHOW client_encoding as the whole text, which ZeroPg answers itself (read once, when first asked).</summary>
    public ClientEncodingStatement? ClientEncodingCommand
    {
        get
        {
            if (!_clientEncodingCommandRead)
            {
                _clientEncodingCommand = IsWellFormed ? ClientEncodingStatement.Find(this) : null;
                _clientEncodingCommandRead = true;
            }
            return _clientEncodingCommand;
        }
    }

    public string Sql { get; }

    public IReadOnlyList<SqlToken> Tokens => _tokens;

    public SqlDoubts Doubts { get; }

    /// <summary>What the SQL does to per-client session state.</summary>
    public SqlEffects Effects { get; }

    /// <summary>The edits that make it right for the shared engine session (see <see cref="Rewrite"/>).</summary>
    internal IReadOnlyList<SqlEdit> Edits { get; }

    /// <summary>The SQL reads pg_prepared_statements (rewritten to the client's own statements, which the session must hand over first).</summary>
    public bool ReadsPreparedStatements => Edits.Any(e => e.Kind == SqlEditKind.PreparedStatements);

    /// <summary>Token ranges of the statements, split at semicolons (empty statements included).</summary>
    public IReadOnlyList<(int Start, int End)> Statements => _statements;

    /// <summary>The text is cut as Postgres would cut it: nothing unterminated, no stray $.</summary>
    public bool IsWellFormed => (Doubts & (SqlDoubts.Unterminated | SqlDoubts.StrayDollar)) == 0;

    /// <summary>The first statement is COPY ... FROM STDIN (the data then comes from the client).</summary>
    public bool CopiesFromStdin => CopiesFromStdinAt(0);

    /// <summary>A statement after the first is COPY ... FROM STDIN (PGlite cannot take its data).</summary>
    public bool CopiesFromStdinLater
    {
        get
        {
            for (var s = 1; s < _statements.Count; s++)
            {
                if (CopiesFromStdinAt(s))
                    return true;
            }
            return false;
        }
    }

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
                if (!IsWord(start, end, "COPY"))
                    continue;
                for (var i = start + 1; i + 1 < end; i++)
                {
                    if ((_tokens[i].IsWord(Sql, "TO") || _tokens[i].IsWord(Sql, "FROM")) && _tokens[i + 1].IsWord(Sql, "PROGRAM"))
                        return true;
                }
            }
            return false;
        }
    }

    /// <summary>A statement creates, alters or drops a role (CREATE/ALTER/DROP ROLE, USER or GROUP): logins must read pg_authid again.</summary>
    public bool ChangesRoles
    {
        get
        {
            foreach (var (start, end) in _statements)
            {
                if ((IsWord(start, end, "CREATE") || IsWord(start, end, "ALTER") || IsWord(start, end, "DROP"))
                    && (IsWord(start + 1, end, "ROLE") || IsWord(start + 1, end, "USER") || IsWord(start + 1, end, "GROUP")))
                    return true;
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
            var mentionsInternal = Sql.Contains(prefix, StringComparison.OrdinalIgnoreCase);
            if (!mentionsInternal && !Sql.Contains("pg_temp", StringComparison.OrdinalIgnoreCase))
                return false;
            for (var i = 0; i < _tokens.Count; i++)
            {
                var token = _tokens[i];
                if (mentionsInternal && token.Kind != SqlTokenKind.Number && token.Span(Sql).Contains(prefix, StringComparison.OrdinalIgnoreCase))
                    return true;
                if (IsTempSchema(token) && i + 2 < _tokens.Count && _tokens[i + 1].IsPunct(Sql, '.') && IsAdvisoryFunction(_tokens[i + 2]))
                    return true;
            }
            return false;
        }
    }

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
                    case SqlTokenKind.Word when token.IsWord(Sql, "SESSION_AUTHORIZATION"):
                    case SqlTokenKind.Word when token.IsWord(Sql, "SESSION") && i + 1 < _tokens.Count && _tokens[i + 1].IsWord(Sql, "AUTHORIZATION"):
                        return true;
                    case SqlTokenKind.QuotedIdentifier or SqlTokenKind.String or SqlTokenKind.DollarString when MentionsSessionAuthorization(token.Span(Sql)):
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
        ? Sql.Substring(token.Start + 1, token.Length - 2).Replace("\"\"", "\"")
        : token.Text(Sql).ToLowerInvariant();

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
            foreach (var (start, end) in _statements)
            {
                var names = IsWord(start, end, "COPY");
                for (var i = start; i < end && !names; i++)
                {
                    if (_tokens[i].Kind == SqlTokenKind.Word && Array.IndexOf(DeviceFiles.FileFunctions, _tokens[i].Upper(Sql)) >= 0)
                        names = true;
                }
                if (!names)
                    continue;
                for (var i = start; i < end; i++)
                {
                    if (DeviceFiles.IsDevice(Sql, _tokens[i]))
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

    /// <summary>The same inside strings and dollar-quoted bodies (SQL a DO block or a function would run).</summary>
    private static readonly System.Text.RegularExpressions.Regex ServerFileText = new(
        @"\b(pg_read_file|pg_read_binary_file|pg_stat_file|pg_ls_[a-z_]*dir|lo_import|lo_export|pg_file_[a-z]+|pg_logdir_ls)\s*\(|\bcopy\b[^;]*\b(to|from)\s+(e?'|\$[a-z_0-9]*\$)|\balter\s+system\b",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// A statement reaches the server's files: COPY to or from a file, the functions that read, write, list or stat files,
    /// server-side lo_import / lo_export, ALTER SYSTEM (postgresql.auto.conf); also spelled in a string or a dollar-quoted body
    /// (what a DO block or a function may run). The engine's file system is the data directory, so ZeroPg refuses them
    /// (<see cref="Sessions.RefusedStatements.ServerFiles"/>). SQL that builds such a statement at run time is not seen.
    /// </summary>
    public bool ReachesServerFiles => _reachesServerFiles ??= FindServerFileAccess();

    private bool? _reachesServerFiles;

    private static readonly string[] ServerFileTriggers = ["FILE", "_LS_", "LO_", "DIR", "COPY", "SYSTEM"];

    private bool FindServerFileAccess()
    {
        if (!ServerFileTriggers.Any(t => Sql.Contains(t, StringComparison.OrdinalIgnoreCase)))
            return false;
        {
            foreach (var (start, end) in _statements)
            {
                if (IsWord(start, end, "ALTER") && IsWord(start + 1, end, "SYSTEM"))
                    return true;
                if (IsWord(start, end, "COPY") && CopiesToOrFromFile(start, end))
                    return true;
            }
            for (var i = 0; i < _tokens.Count; i++)
            {
                var token = _tokens[i];
                if (token.Kind == SqlTokenKind.Word && i + 1 < _tokens.Count && _tokens[i + 1].IsPunct(Sql, '(') && ServerFileFunctions.Contains(token.Span(Sql)))
                    return true;
                if (token.Kind is SqlTokenKind.String or SqlTokenKind.DollarString && ServerFileText.IsMatch(Sql.AsSpan(token.Start, token.Length)))
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
            if (token.IsPunct(Sql, '('))
                depth++;
            else if (token.IsPunct(Sql, ')'))
                depth--;
            else if (depth == 0 && (token.IsWord(Sql, "TO") || token.IsWord(Sql, "FROM")) && IsFileName(i + 1, end))
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

    private static readonly System.Text.RegularExpressions.Regex AsideName = new(@"(?<![A-Za-z0-9_$])zp([0-9]{1,9})_",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private IReadOnlyList<int>? _asidePids;

    /// <summary>
    /// The process ids in names of the form "zp&lt;pid&gt;_..." the text mentions (identifiers, and strings such as
    /// 'name'::regclass or a DO block's body): how ZeroPg names other clients' temp relations while they are put aside
    /// (<see cref="Sessions.TempRelations"/>). Names ZeroPg itself rewrites into the client's own namespace (cursors,
    /// statements) are not counted.
    /// </summary>
    public IReadOnlyList<int> AsideNamePids => _asidePids ??= FindAsideNamePids();

    private IReadOnlyList<int> FindAsideNamePids()
    {
        if (Sql.IndexOf("zp", StringComparison.OrdinalIgnoreCase) < 0)
            return [];
        var rewritten = Edits.Where(e => e.Kind is SqlEditKind.CursorName || e.IsStatementName).Select(e => e.Start).ToHashSet();
        var pids = new List<int>();
        foreach (var token in _tokens)
        {
            if (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier or SqlTokenKind.String or SqlTokenKind.DollarString
                && !rewritten.Contains(token.Start))
            {
                foreach (System.Text.RegularExpressions.Match match in AsideName.Matches(Sql.Substring(token.Start, token.Length)))
                {
                    if (int.TryParse(match.Groups[1].ValueSpan, out var pid) && !pids.Contains(pid))
                        pids.Add(pid);
                }
            }
        }
        return pids;
    }

    /// <summary>A statement is DISCARD ALL or DEALLOCATE [PREPARE] ALL, which drop every prepared statement of the session.</summary>
    public bool DeallocatesAll
    {
        get
        {
            foreach (var (start, end) in _statements)
            {
                if (IsWord(start, end, "DISCARD") && IsWord(start + 1, end, "ALL"))
                    return true;
                if (IsWord(start, end, "DEALLOCATE")
                    && (IsWord(start + 1, end, "ALL") || (IsWord(start + 1, end, "PREPARE") && IsWord(start + 2, end, "ALL"))))
                    return true;
            }
            return false;
        }
    }

    /// <summary>The whole text is exactly DISCARD ALL or DEALLOCATE ALL (a pool's reset), which ZeroPg answers for the one client: its command tag, else null.</summary>
    public string? LocalResetTag
    {
        get
        {
            if (!IsWellFormed || !OnlySemicolonsAfter(2))
                return null;
            if (IsWord(0, 2, "DISCARD") && IsWord(1, 2, "ALL"))
                return "DISCARD ALL";
            return IsWord(0, 2, "DEALLOCATE") && IsWord(1, 2, "ALL") ? "DEALLOCATE ALL" : null;
        }
    }

    /// <summary>BEGIN / START TRANSACTION without options, as a whole statement: all of them equal to BEGIN.</summary>
    public bool IsPlainBegin
    {
        get
        {
            if (!IsWellFormed || _tokens.Count == 0)
                return false;
            var length = IsWord(0, 1, "BEGIN") ? IsKeyword(1, WorkOrTransaction) ? 2 : 1
                : IsWord(0, 1, "START") && IsWord(1, 2, "TRANSACTION") ? 2 : 0;
            return length > 0 && OnlyOneSemicolonAfter(length);
        }
    }

    /// <summary>
    /// By its text no statement can take a transaction id, so none can write: transaction control, settings, SHOW, and SELECTs
    /// that call no function and lock no row (a view's functions are not seen: <see cref="Sessions.EngineAccess.ReadOnly"/>).
    /// </summary>
    public bool CannotWrite
    {
        get
        {
            if (!IsWellFormed)
                return false;
            foreach (var (start, end) in _statements)
            {
                if (start < end && !IsKeyword(start, TransactionControl) && !IsPlainSelect(start, end))
                    return false;
            }
            return true;
        }
    }

    /// <summary>
    /// The whole text is one SET [SESSION] name {TO | =} value (one literal, number or word) or RESET name: its setting's name
    /// and value (null: RESET or DEFAULT).
    /// </summary>
    public bool TryPlainSet(out string name, out string? value)
    {
        name = "";
        value = null;
        if (!IsWellFormed || _statements.Count is < 1 or > 2 || (_statements.Count == 2 && _statements[1].Start < _statements[1].End))
            return false;
        var (start, end) = _statements[0];
        if (IsWord(start, end, "RESET") && end == start + 2 && _tokens[start + 1].Kind == SqlTokenKind.Word && !IsWord(start + 1, end, "ALL"))
        {
            name = _tokens[start + 1].Text(Sql).ToLowerInvariant();
            return true;
        }
        if (!IsWord(start, end, "SET"))
            return false;
        var at = IsWord(start + 1, end, "SESSION") ? start + 2 : start + 1;
        if (end != at + 3 || _tokens[at].Kind != SqlTokenKind.Word || IsKeyword(at, NotPlainSettings)
            || !(IsWord(at + 1, end, "TO") || _tokens[at + 1].IsOperator(Sql, '=')))
            return false;
        name = _tokens[at].Text(Sql).ToLowerInvariant();
        var literal = _tokens[at + 2];
        if (literal.Kind == SqlTokenKind.String && Sql[literal.Start] == '\'')
            value = Sql.Substring(literal.Start + 1, literal.Length - 2).Replace("''", "'");
        else if (literal.Kind is SqlTokenKind.Number or SqlTokenKind.Word)
            value = literal.IsWord(Sql, "DEFAULT") ? null : literal.Text(Sql);
        else
            return false;
        return true;
    }

    /// <summary>SET forms that are not one setting's value.</summary>
    private static readonly KeywordSet NotPlainSettings = new("LOCAL", "ROLE", "TIME", "TRANSACTION", "SESSION", "CONSTRAINTS", "SCHEMA", "NAMES");

    private bool IsPlainSelect(int start, int end)
    {
        if (!IsWord(start, end, "SELECT"))
            return false;
        for (var i = start + 1; i < end; i++)
        {
            var token = _tokens[i];
            if (token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier && i + 1 < end && _tokens[i + 1].IsPunct(Sql, '('))
                return false; // a call
            if (token.IsWord(Sql, "FOR") || token.IsWord(Sql, "INTO"))
                return false; // FOR UPDATE / SHARE lock rows (a transaction id); SELECT INTO creates a table
        }
        return true;
    }

    /// <summary>The first statement is PREPARE TRANSACTION: a two-phase slot decodes the transaction's captured changes at it
    /// (Replication/Capture/TwoPhasePrepares).</summary>
    public bool StartsWithPrepareTransaction
        => _statements.Count > 0 && IsWord(_statements[0].Start, _statements[0].End, "PREPARE") && IsWord(_statements[0].Start + 1, _statements[0].End, "TRANSACTION");

    /// <summary>A statement is ROLLBACK PREPARED: a two-phase slot sends Rollback Prepared at it (Replication/Capture/PreparedCommits).</summary>
    public bool RollsBackPrepared
    {
        get
        {
            foreach (var (start, end) in _statements)
            {
                if (IsWord(start, end, "ROLLBACK") && IsWord(start + 1, end, "PREPARED"))
                    return true;
            }
            return false;
        }
    }

    /// <summary>A statement is COMMIT PREPARED: a prepared transaction's captured changes go out at it (Replication/Capture/PreparedCommits).</summary>
    public bool CommitsPrepared
    {
        get
        {
            foreach (var (start, end) in _statements)
            {
                if (IsWord(start, end, "COMMIT") && IsWord(start + 1, end, "PREPARED"))
                    return true;
            }
            return false;
        }
    }

    /// <summary>COMMIT / END / ROLLBACK / ABORT without AND CHAIN or TO SAVEPOINT, as a whole statement.</summary>
    public bool IsPlainTransactionEnd
    {
        get
        {
            if (!IsWellFormed || _tokens.Count == 0 || !IsKeyword(0, TransactionEnds))
                return false;
            return OnlyOneSemicolonAfter(IsKeyword(1, WorkOrTransaction) ? 2 : 1);
        }
    }

    /// <summary>
    /// True when the SQL may run before the previous client's reply is back: one statement of plain DML
    /// or a query, certain to leave the engine session as it found it (no setting, statement, cursor,
    /// listen, lock or temporary object of its own).
    /// </summary>
    public bool IsPipelineSafe
    {
        get
        {
            if (_tokens.Count == 0 || !IsKeyword(0, PipelineLeading))
                return false;
            for (var i = 0; i < _tokens.Count; i++)
            {
                var token = _tokens[i];
                if (token.IsPunct(Sql, ';'))
                    return i == _tokens.Count - 1; // a second statement is not safe
                if (token.Kind == SqlTokenKind.Word
                    && (PipelineDenied.Contains(token.Span(Sql)) || token.Span(Sql).Contains("ADVISORY", StringComparison.OrdinalIgnoreCase)))
                    return false;
            }
            return true;
        }
    }

    /// <summary>
    /// True when a statement starts with anything but a word known to keep the schema (DDL, or anything
    /// that may run it). DDL run from inside a function (SELECT f()) is not seen. With
    /// <paramref name="firstStatementOnly"/> (a Parse holds one statement) only the first word is looked at.
    /// </summary>
    public bool MayChangeSchema(bool firstStatementOnly = false)
    {
        var statementStart = true;
        foreach (var token in _tokens)
        {
            if (token.IsPunct(Sql, ';'))
                statementStart = true;
            else if (!statementStart || token.IsPunct(Sql, '('))
                continue; // inside a statement, or the parenthesis of (SELECT ...)
            else if (token.Kind != SqlTokenKind.Word || !KeepsSchema.Contains(token.Span(Sql)))
                return true;
            else if (firstStatementOnly)
                return false;
            else
                statementStart = false;
        }
        return false;
    }

    /// <summary>The text with its number literals as typed parameters, when it can run prepared with the same meaning (see <see cref="AutoParameterizer"/>).</summary>
    public bool TryParameterize(out ParameterizedQuery query)
    {
        if (!_parameterizeTried)
        {
            _parameterized = Doubts == SqlDoubts.None && AutoParameterizer.TryParameterize(Sql, _tokens, out var made) ? made : null;
            _parameterizeTried = true;
        }
        query = _parameterized!;
        return _parameterized is not null;
    }

    /// <summary>The text for the shared engine session (the same instance when nothing changes).</summary>
    public string Rewrite(int processId, Func<string[]>? listeningChannels, ISqlStatementNames? names = null, ISqlSessionView? view = null)
        => SqlEdit.Apply(Sql, Edits, processId, listeningChannels, names, view);

    /// <summary>The SQL calls pg_terminate_backend or pg_cancel_backend (the engine session must listen to <see cref="SqlEdit.SignalChannel"/>).</summary>
    public bool SignalsBackends => Edits.Any(e => e.Kind == SqlEditKind.SignalOpen);

    /// <summary>The SQL calls a replication slot function or reads pg_replication_slots: ZeroPg's (Replication/Slots), installed with the capture schema.</summary>
    public bool UsesReplicationSlots => Edits.Any(e => e.Kind is SqlEditKind.SlotFunction or SqlEditKind.ReplicationSlots);

    /// <summary>The SQL reads pg_replication_slots (the server's list is read first: Replication/Slots/ClusterSlots).</summary>
    public bool ReadsReplicationSlots => Edits.Any(e => e.Kind == SqlEditKind.ReplicationSlots);

    /// <summary>The SQL calls a replication slot function (it may create, drop or move a slot: the server's list is read again after it).</summary>
    public bool CallsSlotFunction => Edits.Any(e => e.Kind == SqlEditKind.SlotFunction);

    /// <summary>The SQL calls pg_create_logical_replication_slot (made one at a time over the server: Replication/Slots/ClusterSlots).</summary>
    public bool CreatesSlot => Edits.Any(e => e is { Kind: SqlEditKind.SlotFunction, Text: "pg_create_logical_replication_slot" });


    internal bool IsWord(int index, int end, string upper) => index < end && index < _tokens.Count && _tokens[index].IsWord(Sql, upper);

    private bool IsKeyword(int index, KeywordSet set)
        => index < _tokens.Count && _tokens[index].Kind == SqlTokenKind.Word && set.Contains(_tokens[index].Span(Sql));

    private bool CopiesFromStdinAt(int statement)
    {
        if (statement >= _statements.Count)
            return false;
        var (start, end) = _statements[statement];
        if (!IsWord(start, end, "COPY"))
            return false;
        for (var i = start + 1; i + 1 < end; i++)
        {
            if (_tokens[i].IsWord(Sql, "FROM") && _tokens[i + 1].IsWord(Sql, "STDIN"))
                return true;
        }
        return false;
    }

    private bool OnlySemicolonsAfter(int index)
    {
        for (var i = index; i < _tokens.Count; i++)
        {
            if (!_tokens[i].IsPunct(Sql, ';'))
                return false;
        }
        return _tokens.Count >= index;
    }

    private bool OnlyOneSemicolonAfter(int index)
        => _tokens.Count == index || (_tokens.Count == index + 1 && _tokens[index].IsPunct(Sql, ';'));

    /// <summary>Upper-case keywords looked up without allocating.</summary>
    private sealed class KeywordSet(params string[] words)
    {
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup =
            new HashSet<string>(words, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

        public bool Contains(ReadOnlySpan<char> word) => _lookup.Contains(word);
    }
}
