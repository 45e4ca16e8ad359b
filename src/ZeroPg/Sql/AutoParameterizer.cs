using System.Globalization;
using System.Text;

namespace ZeroPg.Sql;

/// <summary>A simple Query's SQL with its number literals turned into typed parameters, and their values as text.</summary>
internal sealed record ParameterizedQuery(string Sql, IReadOnlyList<string> Values);

/// <summary>
/// Turns one SELECT / INSERT / UPDATE / DELETE sent as a simple Query into a statement the engine can
/// prepare once and run again with other values: most of a small query's engine time is parsing and
/// planning, not running it. Only number literals are replaced, only where a parameter cast to the
/// literal's own type means exactly the same: an operand of an operator (<c>aid = 5</c>,
/// <c>abalance + -12</c>) or an item of a VALUES row. Postgres types a number literal from its text
/// alone (int4, int8 or numeric), never from context, so <c>$1::int4</c> is the same expression.
/// Positions (ORDER BY 1), type modifiers, function arguments and anything the scan is unsure of stay;
/// SQL whose meaning is fixed at parse time by the clock ('now', 'today') is refused.
/// </summary>
internal static class AutoParameterizer
{
    /// <summary>Date/time input words read from the clock when the statement is parsed: a prepared statement would keep the first value.</summary>
    private static readonly HashSet<string> ClockWords = new(StringComparer.OrdinalIgnoreCase) { "now", "today", "tomorrow", "yesterday" };

    /// <summary>Parameterizes <paramref name="sql"/> read as <paramref name="tokens"/>, which must be certain (no <see cref="SqlDoubts"/>).</summary>
    public static bool TryParameterize(string sql, ListView<SqlToken> tokens, out ParameterizedQuery query)
    {
        query = null!;
        if (tokens.Count == 0 || tokens[0].Kind != SqlTokenKind.Word)
            return false;
        var isSelect = tokens[0].IsWord(sql, "SELECT");
        if (!isSelect && !tokens[0].IsWord(sql, "INSERT") && !tokens[0].IsWord(sql, "UPDATE") && !tokens[0].IsWord(sql, "DELETE"))
            return false;
        var context = new LiteralContext(sql, tokens);
        var output = new StringBuilder(sql.Length + 16);
        var values = new List<string>();
        List<string>? canonicals = null; // made at a second number: most statements have one, and this runs for each of them
        var copied = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.IsPunct(sql, ';'))
                return i == tokens.Count - 1 && Finish(sql, output, copied, values, token.Start, out query);
            if (token.Kind == SqlTokenKind.Word && isSelect && token.IsWord(sql, "INTO"))
                return false; // SELECT INTO creates a table
            if (token.Kind == SqlTokenKind.String && ClockWords.Contains(sql.AsSpan(token.Start + 1, token.Length - 2).Trim().ToString()))
                return false;
            context.Advance(i);
            if (token.Kind != SqlTokenKind.Number)
                continue;
            var (start, signed) = context.Replaceable(i);
            if (start < 0)
                continue;
            var text = signed ? "-" + token.Text(sql) : token.Text(sql);
            var type = TypeOf(text);
            // Equal values are one parameter (so GROUP BY x / 10 still matches x / 10, and x + 1 matches x + 01).
            var canonical = values.Count == 0 ? null : Canonical(text, type);
            var number = canonical is null ? 0 : NumberOf(canonical, values, ref canonicals);
            if (number == 0)
            {
                values.Add(text);
                canonicals?.Add(canonical!); // made by NumberOf, so canonical was too
                number = values.Count;
            }
            output.Append(sql, copied, start - copied).Append('$').Append(number).Append("::").Append(type);
            copied = token.Start + token.Length;
        }
        return Finish(sql, output, copied, values, sql.Length, out query);
    }

    /// <summary>The parameter number of an earlier value equal to <paramref name="canonical"/>, or 0.</summary>
    private static int NumberOf(string canonical, List<string> values, ref List<string>? canonicals)
    {
        if (canonicals is null)
        {
            canonicals = new List<string>(values.Count + 2);
            foreach (var value in values)
                canonicals.Add(Canonical(value, TypeOf(value)));
        }
        return canonicals.IndexOf(canonical) + 1;
    }

    private static bool Finish(string sql, StringBuilder output, int copied, List<string> values, int end, out ParameterizedQuery query)
    {
        output.Append(sql, copied, end - copied);
        query = new ParameterizedQuery(output.ToString().TrimEnd(), values);
        return true;
    }

    /// <summary>The type Postgres gives the literal <paramref name="text"/>: int4 when it fits, then int8, else numeric.</summary>
    private static string TypeOf(string text)
    {
        if (text.Contains('.'))
            return "numeric";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            return "int4";
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            return "int8";
        return "numeric";
    }

    /// <summary>The value as Postgres holds it: 01 is 1, -0 is 0; numeric keeps its scale (1.50 is not 1.5 to Postgres's equal()).</summary>
    private static string Canonical(string text, string type)
    {
        if (type != "numeric")
            return type + long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        var negative = text.StartsWith('-');
        var digits = negative ? text[1..] : text;
        var dot = digits.IndexOf('.');
        var whole = (dot < 0 ? digits : digits[..dot]).TrimStart('0');
        var fraction = dot < 0 ? "" : digits[dot..];
        var zero = whole.Length == 0 && fraction.Trim('.', '0').Length == 0;
        return "numeric" + (negative && !zero ? "-" : "") + (whole.Length == 0 ? "0" : whole) + fraction;
    }
}
