using System.Text;

namespace ZeroPg.Sessions.Statements;

/// <summary>A simple Query's SQL with its number literals turned into typed parameters, and their values as text.</summary>
internal sealed record ParameterizedQuery(string Sql, IReadOnlyList<string> Values);

/// <summary>
/// Turns one SELECT / INSERT / UPDATE / DELETE sent as a simple Query into a statement the engine can
/// prepare once and run again with other values: most of a small query's engine time is parsing and
/// planning, not running it. Only number literals are replaced, only where a parameter cast to the
/// literal's own type means exactly the same: an operand of an operator (<c>aid = 5</c>,
/// <c>abalance + -12</c>) or an item of a VALUES row. Postgres types a number literal from its text
/// alone (int4, int8 or numeric), never from context, so <c>$1::int4</c> is the same expression.
/// Positions (ORDER BY 1), type modifiers, function arguments and anything the scan is unsure of stay.
/// </summary>
internal static class AutoParameterizer
{
    private static readonly HashSet<string> Leading = new(StringComparer.Ordinal) { "SELECT", "INSERT", "UPDATE", "DELETE" };

    /// <summary>Words after which + and - are signs, not operators.</summary>
    private static readonly HashSet<string> SignContext = new(StringComparer.Ordinal)
    {
        "SELECT", "WHERE", "AND", "OR", "NOT", "THEN", "ELSE", "WHEN", "BY", "ON", "HAVING", "RETURNING", "SET", "VALUES",
        "LIMIT", "OFFSET", "AS", "IN", "IS", "BETWEEN", "LIKE", "ILIKE", "SIMILAR", "CASE", "DISTINCT", "ALL", "ANY", "SOME",
        "FROM", "JOIN", "USING", "EXISTS", "OVER", "ROWS", "RANGE", "GROUPS", "FETCH", "FIRST", "NEXT", "ARRAY", "WITH", "ESCAPE",
    };

    /// <summary>Statements that cannot change which table a name means or what columns it has.</summary>
    private static readonly HashSet<string> KeepsSchema = new(StringComparer.Ordinal)
    {
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
        "ABORT", "SAVEPOINT", "RELEASE", "SET", "RESET", "SHOW", "PREPARE", "EXECUTE", "DEALLOCATE", "LISTEN", "UNLISTEN",
        "NOTIFY", "FETCH", "CLOSE", "DECLARE", "MOVE", "COPY", "LOCK", "CHECKPOINT", "ANALYZE", "VACUUM",
    };

    /// <summary>True when a statement of <paramref name="sql"/> is DDL or may run it (DO, CALL, anything not known to keep the schema).</summary>
    public static bool MayChangeSchema(string sql)
    {
        var statementStart = true;
        foreach (var token in SqlText.Tokens(sql))
        {
            if (token.Text == ";")
            {
                statementStart = true;
                continue;
            }
            if (statementStart && token.Text != "(" && !KeepsSchema.Contains(token.Text))
                return true;
            statementStart = false;
        }
        return false;
    }

    public static bool TryParameterize(string sql, out ParameterizedQuery query)
    {
        query = null!;
        var tokens = new List<SqlToken>();
        if (!SqlTokenizer.TryTokenize(sql, tokens) || tokens.Count == 0 || tokens[0].Kind != SqlTokenKind.Word)
            return false;
        if (!Leading.Contains(tokens[0].Upper(sql)))
            return false;
        var isSelect = tokens[0].Upper(sql) == "SELECT";
        var output = new StringBuilder(sql.Length + 16);
        var values = new List<string>();
        var numbers = new Dictionary<string, int>(StringComparer.Ordinal);
        var copied = 0;
        int depth = 0, valuesLevel = -1;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.IsPunct(sql, ';'))
                return i == tokens.Count - 1 && Finish(sql, output, copied, values, token.Start, out query);
            if (token.Kind == SqlTokenKind.Word && isSelect && token.Upper(sql) == "INTO")
                return false; // SELECT INTO creates a table
            if (valuesLevel >= 0 && depth <= valuesLevel && !token.IsPunct(sql, '(') && !token.IsPunct(sql, ','))
                valuesLevel = -1;
            if (token.IsPunct(sql, '('))
                depth++;
            else if (token.IsPunct(sql, ')'))
                depth--;
            else if (token.Kind == SqlTokenKind.Word && token.Upper(sql) == "VALUES")
                valuesLevel = depth;
            if (token.Kind != SqlTokenKind.Number)
                continue;
            var (start, signed) = Replaceable(sql, tokens, i, inValuesRow: valuesLevel >= 0 && depth == valuesLevel + 1);
            if (start < 0)
                continue;
            var text = signed ? "-" + token.Text(sql) : token.Text(sql);
            var type = TypeOf(text);
            if (type is null)
                continue;
            if (!numbers.TryGetValue(text, out var number))
            {
                values.Add(text);
                number = values.Count;
                numbers[text] = number; // the same literal is the same parameter, so GROUP BY x / 10 still matches x / 10
            }
            output.Append(sql, copied, start - copied).Append('$').Append(number).Append("::").Append(type);
            copied = token.Start + token.Length;
        }
        return Finish(sql, output, copied, values, sql.Length, out query);
    }

    private static bool Finish(string sql, StringBuilder output, int copied, List<string> values, int end, out ParameterizedQuery query)
    {
        output.Append(sql, copied, end - copied);
        query = new ParameterizedQuery(output.ToString().TrimEnd(), values);
        return true;
    }

    /// <summary>Where the replaced text starts (the number, or its sign), or -1 to keep the number as it is.</summary>
    private static (int Start, bool Signed) Replaceable(string sql, List<SqlToken> tokens, int i, bool inValuesRow)
    {
        if (i < 1)
            return (-1, false);
        var p1 = tokens[i - 1];
        var p2 = i >= 2 ? tokens[i - 2] : default;
        var hasP2 = i >= 2;
        if (p1.Kind == SqlTokenKind.Operator && !p1.IsSign(sql))
            return (tokens[i].Start, false);
        if (inValuesRow && (p1.IsPunct(sql, '(') || p1.IsPunct(sql, ',')))
            return (tokens[i].Start, false);
        if (!p1.IsSign(sql) || !hasP2)
            return (-1, false);
        if (IsOperandEnd(sql, p2) || sql[p1.Start] == '+')
            return (tokens[i].Start, false); // a binary + or -, or a unary + (which Postgres keeps as an operator)
        // A sign: Postgres folds it into the constant, so the parameter carries it too.
        var signIsUnaryAfterOperator = p2.Kind == SqlTokenKind.Operator;
        var signInValuesRow = inValuesRow && (p2.IsPunct(sql, '(') || p2.IsPunct(sql, ','));
        return signIsUnaryAfterOperator || signInValuesRow ? (p1.Start, true) : (-1, false);
    }

    private static bool IsOperandEnd(string sql, SqlToken token) => token.Kind switch
    {
        SqlTokenKind.Number or SqlTokenKind.String or SqlTokenKind.QuotedIdentifier => true,
        SqlTokenKind.Word => !SignContext.Contains(token.Upper(sql)),
        SqlTokenKind.Punct => token.IsPunct(sql, ')') || token.IsPunct(sql, ']'),
        _ => false,
    };

    /// <summary>The type Postgres gives the literal <paramref name="text"/>: int4 when it fits, then int8, else numeric.</summary>
    private static string? TypeOf(string text)
    {
        if (text.Contains('.'))
            return "numeric";
        if (int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
            return "int4";
        if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
            return "int8";
        return "numeric";
    }
}
