using ZeroPg.Sql;

namespace ZeroPg.Sessions.Waiting;

/// <summary>What one statement's text says about waiting for locks, read from its tokens (<see cref="SqlAnalysis"/>).</summary>
internal enum StatementKind : byte
{
    /// <summary>Any statement that may wait for a lock.</summary>
    Other,
    /// <summary>BEGIN / START TRANSACTION.</summary>
    Begin,
    /// <summary>SET [LOCAL | SESSION] / RESET of lock_timeout or statement_timeout, or SELECT set_config of one of them.</summary>
    TimeoutSetting,
}

/// <summary>
/// Reads one statement (a token range of a <see cref="SqlAnalysis"/>) for the queue's timeouts: whether it opens a transaction
/// block or sets lock_timeout / statement_timeout (and to what), and whether it must not wait for a lock (FOR UPDATE / SHARE
/// NOWAIT, LOCK ... NOWAIT) or skips locked rows (SKIP LOCKED), with the relation Postgres's 55P03 message names.
/// </summary>
internal readonly struct StatementWaits
{
    private readonly SqlAnalysis _sql;
    private readonly int _start;
    private readonly int _end;

    public StatementWaits(SqlAnalysis sql, int start, int end)
    {
        _sql = sql;
        _start = start;
        _end = end;
    }

    public bool IsEmpty => _start >= _end;

    public StatementKind Kind
    {
        get
        {
            if (Word(_start, "BEGIN") || (Word(_start, "START") && Word(_start + 1, "TRANSACTION")))
                return StatementKind.Begin;
            return TryTimeoutSetting(out _, out _, out _) ? StatementKind.TimeoutSetting : StatementKind.Other;
        }
    }

    /// <summary>
    /// SET [LOCAL | SESSION] lock_timeout | statement_timeout {TO | =} value, RESET of one, or SELECT set_config('name', 'value', is_local):
    /// the setting's name, its value (null: RESET / DEFAULT, the server's default, 0) and whether it is LOCAL.
    /// </summary>
    public bool TryTimeoutSetting(out string name, out string? value, out bool local)
    {
        name = "";
        value = null;
        local = false;
        var tokens = _sql.Tokens;
        if (Word(_start, "RESET") && _start + 2 == _end && IsTimeoutName(_start + 1, out name))
            return true;
        if (Word(_start, "SET"))
        {
            var at = _start + 1;
            if (Word(at, "LOCAL"))
            {
                local = true;
                at++;
            }
            else if (Word(at, "SESSION"))
            {
                at++;
            }
            if (at + 3 != _end || !IsTimeoutName(at, out name) || !(Word(at + 1, "TO") || tokens[at + 1].IsOperator(_sql.Sql, '=')))
                return false;
            return TryValue(tokens[at + 2], out value);
        }
        // SELECT set_config('lock_timeout', '300ms', true) (pg-boss, graphile-worker and ORMs set it so)
        if (Word(_start, "SELECT") && _start + 9 == _end && Word(_start + 1, "SET_CONFIG") && Punct(_start + 2, '(')
            && Punct(_start + 4, ',') && Punct(_start + 6, ',') && Punct(_start + 8, ')')
            && tokens[_start + 3].Kind == SqlTokenKind.String && (Word(_start + 7, "TRUE") || Word(_start + 7, "FALSE")))
        {
            name = Unquote(tokens[_start + 3]).ToLowerInvariant();
            local = Word(_start + 7, "TRUE");
            return name is "lock_timeout" or "statement_timeout" && tokens[_start + 5].Kind == SqlTokenKind.String
                && TryValue(tokens[_start + 5], out value);
        }
        return false;
    }

    /// <summary>Postgres's 55P03 for a statement that must not wait for a lock (NOWAIT), else null.</summary>
    public string? NoWaitMessage()
    {
        if (!HasWord("NOWAIT"))
            return null;
        if (Word(_start, "LOCK"))
        {
            var at = _start + 1;
            if (Word(at, "TABLE"))
                at++;
            if (Word(at, "ONLY"))
                at++;
            return $"could not obtain lock on relation \"{RelationAt(at, qualified: true) ?? "?"}\""; // the name as written
        }
        return HasWord("FOR") ? $"could not obtain lock on row in relation \"{LockedRelation() ?? "?"}\"" : null;
    }

    /// <summary>FOR UPDATE / SHARE ... SKIP LOCKED.</summary>
    public bool SkipsLocked
    {
        get
        {
            for (var i = _start; i + 1 < _end; i++)
            {
                if (Word(i, "SKIP") && Word(i + 1, "LOCKED"))
                    return true;
            }
            return false;
        }
    }

    /// <summary>The relation of FOR ... OF name, else the first of FROM.</summary>
    private string? LockedRelation()
    {
        for (var i = _start; i + 2 < _end; i++)
        {
            if (Word(i, "FOR") && (Word(i + 1, "UPDATE") || Word(i + 1, "SHARE") || Word(i + 1, "NO") || Word(i + 1, "KEY")))
            {
                for (var j = i + 1; j + 1 < _end; j++)
                {
                    if (Word(j, "OF"))
                        return RelationAt(j + 1);
                    if (Word(j, "NOWAIT") || Word(j, "SKIP"))
                        break;
                }
                break;
            }
        }
        for (var i = _start; i + 1 < _end; i++)
        {
            if (Word(i, "FROM"))
                return RelationAt(Word(i + 1, "ONLY") ? i + 2 : i + 1);
        }
        return null;
    }

    /// <summary>The name starting at token <paramref name="at"/>: the relation's own (a row lock's message leaves out its schema), or as written.</summary>
    private string? RelationAt(int at, bool qualified = false)
    {
        string? name = null;
        var written = "";
        var tokens = _sql.Tokens;
        while (at < _end && tokens[at].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
        {
            name = tokens[at].Kind == SqlTokenKind.QuotedIdentifier ? Unquote(tokens[at]) : tokens[at].Text(_sql.Sql).ToLowerInvariant();
            written += (written.Length > 0 ? "." : "") + name;
            if (at + 2 < _end && Punct(at + 1, '.'))
                at += 2;
            else
                break;
        }
        return qualified && name is not null ? written : name;
    }

    private bool IsTimeoutName(int at, out string name)
    {
        name = at < _end && _sql.Tokens[at].Kind == SqlTokenKind.Word ? _sql.Tokens[at].Text(_sql.Sql).ToLowerInvariant() : "";
        return name is "lock_timeout" or "statement_timeout";
    }

    private bool TryValue(SqlToken literal, out string? value)
    {
        value = null;
        if (literal.Kind == SqlTokenKind.String && _sql.Sql[literal.Start] == '\'')
            value = Unquote(literal);
        else if (literal.Kind is SqlTokenKind.Number or SqlTokenKind.Word)
            value = literal.IsWord(_sql.Sql, "DEFAULT") ? null : literal.Text(_sql.Sql);
        else
            return false;
        return value is null || SessionTimeouts.TryParseMilliseconds(value, out _);
    }

    private string Unquote(SqlToken token) => _sql.Sql.Substring(token.Start + 1, token.Length - 2).Replace(token.Kind == SqlTokenKind.String ? "''" : "\"\"", token.Kind == SqlTokenKind.String ? "'" : "\"");

    private bool HasWord(string upper)
    {
        for (var i = _start; i < _end; i++)
        {
            if (Word(i, upper))
                return true;
        }
        return false;
    }

    private bool Word(int at, string upper) => at < _end && _sql.Tokens[at].IsWord(_sql.Sql, upper);

    private bool Punct(int at, char c) => at < _end && _sql.Tokens[at].IsPunct(_sql.Sql, c);
}
