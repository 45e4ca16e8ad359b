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
    public string Rewrite(int processId, Func<string[]>? listeningChannels, ISqlStatementNames? names = null)
        => SqlEdit.Apply(Sql, Edits, processId, listeningChannels, names);

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
