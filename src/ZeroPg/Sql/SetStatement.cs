namespace ZeroPg.Sql;

/// <summary>
/// What one SET or RESET statement does to the session's settings, read from its tokens: whether it outlives its transaction
/// (<see cref="Session"/>; SET LOCAL, SET TRANSACTION and SET CONSTRAINTS end with it), the custom (dotted) setting it names,
/// and the one built-in setting it names when that setting reads back as set_config restores it (<see cref="Named"/>).
/// </summary>
internal readonly record struct SetStatement(bool Session, string? Custom, string? Named)
{
    /// <summary>
    /// Not read back by name: ALL, the identity (ROLE, SESSION AUTHORIZATION), the transaction settings, SET NAMES
    /// (client_encoding is ZeroPg's own) and SET SESSION CHARACTERISTICS.
    /// </summary>
    private static readonly HashSet<string> NotNamed = new(StringComparer.OrdinalIgnoreCase)
    {
        "all", "role", "session", "authorization", "session_authorization", "names", "client_encoding", "characteristics",
        "transaction_isolation", "transaction_read_only", "transaction_deferrable",
    };

    /// <summary>A setting the engine session's value of which, read with current_setting, is what set_config restores.</summary>
    public static bool ReadsBackByName(string setting) => !NotNamed.Contains(setting);

    /// <summary>The statement at tokens [<paramref name="start"/>, <paramref name="end"/>), whose first token is SET or RESET.</summary>
    public static SetStatement Read(string sql, ListView<SqlToken> tokens, int start, int end)
    {
        bool Word(int index, string upper) => index < end && tokens[index].IsWord(sql, upper);
        var isSet = tokens[start].IsWord(sql, "SET");
        var session = !(isSet && (Word(start + 1, "LOCAL") || Word(start + 1, "TRANSACTION") || Word(start + 1, "CONSTRAINTS")));
        var name = Word(start + 1, "LOCAL") || Word(start + 1, "SESSION") ? start + 2 : start + 1;
        if (name + 2 < end && tokens[name + 1].IsPunct(sql, '.'))
            return new(session, $"{Identifier(sql, tokens[name])}.{Identifier(sql, tokens[name + 2])}", null);
        if (name >= end)
            return new(session, null, null);
        string? named = tokens[name] switch
        {
            _ when Word(name, "TIME") && Word(name + 1, "ZONE") => "timezone", // SET TIME ZONE and SET SCHEMA set these
            _ when Word(name, "SCHEMA") => "search_path",
            _ when Word(name, "XML") && Word(name + 1, "OPTION") => "xmloption",
            { Kind: SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier } token when ReadsBackByName(Identifier(sql, token)) => Identifier(sql, token).ToLowerInvariant(),
            _ => null,
        };
        return new(session, null, named);
    }

    private static string Identifier(string sql, SqlToken token) => token.Kind == SqlTokenKind.QuotedIdentifier && token.Length >= 2
        ? sql.Substring(token.Start + 1, token.Length - 2).Replace("\"\"", "\"")
        : token.Text(sql).ToLowerInvariant();
}
