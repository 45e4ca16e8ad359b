namespace ZeroPg.Sql;

/// <summary>
/// Where a number literal stands in a statement, for <see cref="AutoParameterizer"/>: whether it is an
/// operand of an operator or a VALUES item, and whether a minus before it is a sign Postgres folds
/// into the constant (<c>= -5</c>) or an operator of its own (<c>x - 5</c>, <c>-0::float8</c>).
/// </summary>
internal sealed class LiteralContext(string sql, ListView<SqlToken> tokens)
{
    /// <summary>Words after which + and - are signs, not operators.</summary>
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> SignContext = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "SELECT", "WHERE", "AND", "OR", "NOT", "THEN", "ELSE", "WHEN", "BY", "ON", "HAVING", "RETURNING", "SET", "VALUES",
        "LIMIT", "OFFSET", "AS", "IN", "IS", "BETWEEN", "LIKE", "ILIKE", "SIMILAR", "CASE", "DISTINCT", "ALL", "ANY", "SOME",
        "FROM", "JOIN", "USING", "EXISTS", "OVER", "ROWS", "RANGE", "GROUPS", "FETCH", "FIRST", "NEXT", "ARRAY", "WITH", "ESCAPE",
    }.GetAlternateLookup<ReadOnlySpan<char>>();

    // Made at the first parenthesis / DISTINCT ON: a statement of most clients has neither, and every statement comes here.
    private Stack<bool>? _parens; // per open parenthesis: is it DISTINCT ON's list
    private HashSet<int>? _clauseCloses; // indexes of ')' that end DISTINCT ON (...), not an expression
    private int _depth;
    private int _valuesLevel = -1;

    /// <summary>Takes in token <paramref name="i"/>; call for every token in order before asking about it.</summary>
    public void Advance(int i)
    {
        var token = tokens[i];
        if (_valuesLevel >= 0 && _depth <= _valuesLevel && !token.IsPunct(sql, '(') && !token.IsPunct(sql, ','))
            _valuesLevel = -1;
        if (token.IsPunct(sql, '('))
        {
            (_parens ??= new()).Push(i >= 2 && IsWord(i - 1, "ON") && IsWord(i - 2, "DISTINCT"));
            _depth++;
        }
        else if (token.IsPunct(sql, ')'))
        {
            if (_parens is not null && _parens.TryPop(out var clause) && clause)
                (_clauseCloses ??= []).Add(i);
            _depth--;
        }
        else if (IsWord(i, "VALUES"))
        {
            _valuesLevel = _depth;
        }
    }

    /// <summary>Where the replaced text starts (the number, or its sign when folded: then Signed), or -1 to keep the number.</summary>
    public (int Start, bool Signed) Replaceable(int i)
    {
        var number = tokens[i].Start;
        if (i < 1)
            return (-1, false);
        var inValuesRow = _valuesLevel >= 0 && _depth == _valuesLevel + 1;
        var p1 = tokens[i - 1];
        if (p1.Kind == SqlTokenKind.Operator && !p1.IsSign(sql))
            return (number, false);
        if (inValuesRow && (p1.IsPunct(sql, '(') || p1.IsPunct(sql, ',')))
            return (number, false);
        if (!p1.IsSign(sql) || i < 2)
            return (-1, false);
        if (IsOperandEnd(i - 2))
            return (number, false); // a binary + or -
        var p2 = tokens[i - 2];
        var afterOperator = p2.Kind == SqlTokenKind.Operator;
        var startsValuesItem = inValuesRow && (p2.IsPunct(sql, '(') || p2.IsPunct(sql, ','));
        if (sql[p1.Start] == '+')
            return afterOperator ? (number, false) : (-1, false); // unary + stays an operator; OFFSET +2 must stay a constant
        if (!afterOperator && !startsValuesItem)
            return (-1, false); // ORDER BY -1 and the like: keep
        // Postgres folds a minus into the constant it precedes, unless a cast or subscript binds first: -0::float8 is -(0::float8).
        var next = i + 1 < tokens.Count ? tokens[i + 1] : default;
        var bindsFirst = i + 1 < tokens.Count && (next.IsPunct(sql, ':') || next.IsPunct(sql, '['));
        return bindsFirst ? (number, false) : (p1.Start, true);
    }

    private bool IsOperandEnd(int i)
    {
        var token = tokens[i];
        return token.Kind switch
        {
            SqlTokenKind.Number or SqlTokenKind.String or SqlTokenKind.QuotedIdentifier => true,
            SqlTokenKind.Word => !SignContext.Contains(token.Span(sql)),
            SqlTokenKind.Punct => (token.IsPunct(sql, ')') && _clauseCloses?.Contains(i) != true) || token.IsPunct(sql, ']'),
            _ => false,
        };
    }

    private bool IsWord(int i, string upper) => tokens[i].IsWord(sql, upper);
}
