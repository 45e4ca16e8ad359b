namespace ZeroPg.Sql;

internal enum DatabaseCommandKind
{
    Create,
    Drop,
    Rename,
}

/// <summary>
/// CREATE DATABASE, DROP DATABASE and ALTER DATABASE ... RENAME TO, which ZeroPg answers itself (each
/// database is an engine of its own): read from an analysed SQL text's tokens. Other ALTER DATABASE forms
/// are not these and go to the engine (they act on the engine's own cluster).
/// </summary>
internal sealed record DatabaseStatement(DatabaseCommandKind Kind, string Name)
{
    /// <summary>CREATE DATABASE ... TEMPLATE t.</summary>
    public string? Template { get; init; }

    /// <summary>ALTER DATABASE ... RENAME TO the new name.</summary>
    public string? NewName { get; init; }

    public bool IfExists { get; init; }

    /// <summary>DROP DATABASE ... WITH (FORCE).</summary>
    public bool Force { get; init; }

    /// <summary>CREATE DATABASE options other than TEMPLATE, upper case: accepted and ignored (a database is a copy of its template's cluster).</summary>
    public IReadOnlyList<string> IgnoredOptions { get; init; } = [];

    /// <summary>The statement is the whole text (apart from semicolons); else it shares a query with other statements.</summary>
    public bool Alone { get; init; }

    /// <summary>The statement could not be read: a syntax error to answer instead.</summary>
    public string? SyntaxError { get; init; }

    public string CommandTag => Kind switch
    {
        DatabaseCommandKind.Create => "CREATE DATABASE",
        DatabaseCommandKind.Drop => "DROP DATABASE",
        _ => "ALTER DATABASE",
    };

    /// <summary>The first database command among the text's statements, or null when it has none.</summary>
    public static DatabaseStatement? Find(SqlAnalysis analysis)
    {
        var tokens = analysis.Tokens;
        var sql = analysis.Sql;
        var nonEmpty = analysis.NonEmptyStatementCount;
        foreach (var (start, end) in analysis.Statements)
        {
            if (end - start < 3 || !tokens[start + 1].IsWord(sql, "DATABASE"))
                continue;
            var reader = new Reader(sql, tokens, start + 2, end);
            DatabaseStatement? found = tokens[start].IsWord(sql, "CREATE") ? ReadCreate(reader)
                : tokens[start].IsWord(sql, "DROP") ? ReadDrop(reader)
                : tokens[start].IsWord(sql, "ALTER") ? ReadRename(reader)
                : null;
            if (found is not null)
                return found with { Alone = nonEmpty == 1 };
        }
        return null;
    }

    private static DatabaseStatement ReadCreate(Reader reader)
    {
        var name = reader.Name();
        if (name is null)
            return Invalid(DatabaseCommandKind.Create, reader);
        string? template = null;
        var ignored = new List<string>();
        reader.Word("WITH");
        while (!reader.AtEnd)
        {
            var option = reader.OptionName();
            if (option is null)
                return Invalid(DatabaseCommandKind.Create, reader);
            if (option == "CONNECTION")
            {
                if (!reader.Word("LIMIT"))
                    return Invalid(DatabaseCommandKind.Create, reader);
                option = "CONNECTION LIMIT";
            }
            reader.Operator('=');
            var value = reader.Value();
            if (value is null)
                return Invalid(DatabaseCommandKind.Create, reader);
            if (option == "TEMPLATE")
                template = value;
            else
                ignored.Add(option);
        }
        return new DatabaseStatement(DatabaseCommandKind.Create, name) { Template = template, IgnoredOptions = ignored };
    }

    private static DatabaseStatement ReadDrop(Reader reader)
    {
        var ifExists = reader.Word("IF") && reader.Word("EXISTS");
        var name = reader.Name();
        if (name is null)
            return Invalid(DatabaseCommandKind.Drop, reader);
        var force = false;
        if (!reader.AtEnd)
        {
            reader.Word("WITH");
            if (!reader.Punct('('))
                return Invalid(DatabaseCommandKind.Drop, reader);
            do
            {
                if (!reader.Word("FORCE"))
                    return Invalid(DatabaseCommandKind.Drop, reader);
                force = true;
            }
            while (reader.Punct(','));
            if (!reader.Punct(')') || !reader.AtEnd)
                return Invalid(DatabaseCommandKind.Drop, reader);
        }
        return new DatabaseStatement(DatabaseCommandKind.Drop, name) { IfExists = ifExists, Force = force };
    }

    /// <summary>ALTER DATABASE x RENAME TO y; null for the other ALTER DATABASE forms.</summary>
    private static DatabaseStatement? ReadRename(Reader reader)
    {
        var name = reader.Name();
        if (name is null || !reader.Word("RENAME"))
            return null;
        var newName = reader.Word("TO") ? reader.Name() : null;
        return newName is null || !reader.AtEnd
            ? Invalid(DatabaseCommandKind.Rename, reader)
            : new DatabaseStatement(DatabaseCommandKind.Rename, name) { NewName = newName };
    }

    private static DatabaseStatement Invalid(DatabaseCommandKind kind, Reader reader)
        => new(kind, "") { SyntaxError = reader.AtEnd ? "syntax error at end of input" : $"syntax error at or near \"{reader.Current}\"" };

    /// <summary>Reads tokens of one statement in order.</summary>
    private sealed class Reader(string sql, ListView<SqlToken> tokens, int at, int end)
    {
        public bool AtEnd => at >= end;

        public string Current => tokens[at].Text(sql);

        public bool Word(string upper)
        {
            if (AtEnd || !tokens[at].IsWord(sql, upper))
                return false;
            at++;
            return true;
        }

        public bool Punct(char c)
        {
            if (AtEnd || !tokens[at].IsPunct(sql, c))
                return false;
            at++;
            return true;
        }

        public void Operator(char c)
        {
            if (!AtEnd && tokens[at].IsOperator(sql, c))
                at++;
        }

        /// <summary>An identifier as Postgres folds it: unquoted words in lower case.</summary>
        public string? Name()
        {
            if (AtEnd)
                return null;
            var token = tokens[at];
            string? name = token.Kind switch
            {
                SqlTokenKind.Word => token.Text(sql).ToLowerInvariant(),
                SqlTokenKind.QuotedIdentifier when token.Length > 2 => sql.Substring(token.Start + 1, token.Length - 2).Replace("\"\"", "\""),
                _ => null,
            };
            if (name is not null)
                at++;
            return name;
        }

        public string? OptionName()
        {
            if (AtEnd || tokens[at].Kind != SqlTokenKind.Word)
                return null;
            return tokens[at++].Upper(sql);
        }

        /// <summary>An option's value: a name, a string, a (signed) number or DEFAULT.</summary>
        public string? Value()
        {
            if (AtEnd)
                return null;
            if (tokens[at].IsSign(sql) && at + 1 < end && tokens[at + 1].Kind == SqlTokenKind.Number)
                at++;
            var token = tokens[at];
            if (token.Kind == SqlTokenKind.String)
            {
                at++;
                return sql.Substring(token.Start + 1, token.Length - 2).Replace("''", "'");
            }
            if (token.Kind == SqlTokenKind.Number)
            {
                at++;
                return token.Text(sql);
            }
            return Name();
        }
    }
}
