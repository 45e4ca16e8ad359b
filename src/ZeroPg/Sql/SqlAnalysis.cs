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

    public ListView<SqlToken> Tokens => new(_tokens);

    public SqlDoubts Doubts { get; }

    /// <summary>What the SQL does to per-client session state.</summary>
    public SqlEffects Effects { get; }

    /// <summary>The edits that make it right for the shared engine session (see <see cref="Rewrite"/>).</summary>
    internal IReadOnlyList<SqlEdit> Edits { get; }

    /// <summary>The SQL reads pg_prepared_statements (rewritten to the client's own statements, which the session must hand over first).</summary>
    public bool ReadsPreparedStatements => Edits.Any(e => e.Kind == SqlEditKind.PreparedStatements);

    /// <summary>Token ranges of the statements, split at semicolons (empty statements included).</summary>
    public ListView<(int Start, int End)> Statements => new(_statements);

    /// <summary>How many of <see cref="Statements"/> hold a token.</summary>
    public int NonEmptyStatementCount
    {
        get
        {
            var count = 0;
            foreach (var (start, end) in _statements)
                count += end > start ? 1 : 0;
            return count;
        }
    }

    /// <summary>The text is cut as Postgres would cut it: nothing unterminated, no stray $.</summary>
    public bool IsWellFormed => (Doubts & (SqlDoubts.Unterminated | SqlDoubts.StrayDollar)) == 0;

    /// <summary>The first statement is COPY ... FROM STDIN (the data then comes from the client).</summary>
    /// <remarks>The first statement that is not empty: Postgres drops empty ones, so "; COPY t FROM STDIN" is that COPY
    /// (a Parse of it made PGlite exit when it was not seen as one: found by the fuzzer).</remarks>
    public bool CopiesFromStdin => CopiesFromStdinAt(FirstStatement);

    /// <summary>A statement after the first is COPY ... FROM STDIN (PGlite cannot take its data).</summary>
    public bool CopiesFromStdinLater
    {
        get
        {
            for (var s = FirstStatement + 1; s < _statements.Count; s++)
            {
                if (CopiesFromStdinAt(s))
                    return true;
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

    /// <summary>What ZeroPg refuses in the text before it reaches the shared engine (read once, when first asked).</summary>
    public RefusalSigns Refusals => _refusals ??= new RefusalSigns(this);

    private RefusalSigns? _refusals;

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

    private static readonly string[] IsolationLevels =
        ["ISOLATION LEVEL READ COMMITTED", "ISOLATION LEVEL READ UNCOMMITTED", "ISOLATION LEVEL REPEATABLE READ", "ISOLATION LEVEL SERIALIZABLE"];

    /// <summary>
    /// The whole text is a BEGIN ZeroPg may answer before it runs: plain (<see cref="IsPlainBegin"/>), or BEGIN [TRANSACTION | WORK]
    /// ISOLATION LEVEL of one of the four levels (what Npgsql sends). Neither can fail or warn outside a transaction.
    /// </summary>
    public bool IsDeferrableBegin
    {
        get
        {
            if (IsPlainBegin)
                return true;
            if (!IsWellFormed || !IsWord(0, 1, "BEGIN") || _statements.Count(s => s.Start < s.End) != 1)
                return false;
            var (_, end) = _statements[0];
            var words = new List<string>(end);
            for (var i = IsKeyword(1, WorkOrTransaction) ? 2 : 1; i < end; i++)
                words.Add(_tokens[i].Kind == SqlTokenKind.Word ? _tokens[i].Upper(Sql) : "?");
            return IsolationLevels.Contains(string.Join(' ', words));
        }
    }

    /// <summary>The CommandComplete tag Postgres answers a BEGIN with: START TRANSACTION's is its own.</summary>
    public string BeginTag => IsWord(0, 1, "START") ? "START TRANSACTION" : "BEGIN";

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

    /// <summary>
    /// A statement may end a transaction block (COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION), or the text is not well
    /// formed enough to tell: such a statement would end the aborted block of a failed guarded preamble and let the statements
    /// after it run (<see cref="Sessions.EngineStateRestore"/>).
    /// </summary>
    public bool MayEndTransaction
    {
        get
        {
            if (!IsWellFormed)
                return true;
            foreach (var (start, end) in _statements)
            {
                if (start < end && (IsKeyword(start, TransactionEnds) || (IsWord(start, end, "PREPARE") && IsWord(start + 1, end, "TRANSACTION"))))
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

    /// <summary>A statement that begins with <paramref name="word"/> keeps the schema (see <see cref="MayChangeSchema"/>).</summary>
    public static bool KeepsSchemaWord(ReadOnlySpan<char> word) => KeepsSchema.Contains(word);

    /// <summary>The text with its number literals as typed parameters, when it can run prepared with the same meaning (see <see cref="AutoParameterizer"/>).</summary>
    public bool TryParameterize(out ParameterizedQuery query)
    {
        if (!_parameterizeTried)
        {
            _parameterized = Doubts == SqlDoubts.None && AutoParameterizer.TryParameterize(Sql, Tokens, out var made) ? made : null;
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

    /// <summary>The index of the first statement that is not empty (Postgres drops empty statements); the count when all are.</summary>
    private int FirstStatement
    {
        get
        {
            var s = 0;
            while (s < _statements.Count && _statements[s].Start >= _statements[s].End)
                s++;
            return s;
        }
    }

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
}
