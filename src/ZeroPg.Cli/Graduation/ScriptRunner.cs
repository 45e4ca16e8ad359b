using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using ZeroPg.Cli.Scripts;

namespace ZeroPg.Cli.Graduation;

internal sealed record ScriptRunOptions
{
    /// <summary>One transaction for the whole script (psql's -1): all of it or nothing.</summary>
    public bool SingleTransaction { get; init; } = true;

    /// <summary>Skip ALTER ... OWNER TO (pg_restore's --no-owner).</summary>
    public bool NoOwner { get; init; }

    /// <summary>Skip GRANT, REVOKE and ALTER DEFAULT PRIVILEGES (pg_restore's --no-privileges).</summary>
    public bool NoPrivileges { get; init; }

    /// <summary>The target is one database: CREATE/ALTER/COMMENT ON DATABASE and \connect are skipped with a warning.</summary>
    public bool SingleDatabase { get; init; }

    /// <summary>A COPY block larger than this is sent as several COPY statements (PGlite holds a whole COPY in memory).</summary>
    public long MaxCopyStatementChars { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Create the roles that ownership and grants name (NOLOGIN) where they do not exist yet, just
    /// before the first statement that names them; a pg_dump file from another server does not carry them.
    /// </summary>
    public bool CreateMissingRoles { get; init; }

    /// <summary>Statements sent together in one round trip inside a single transaction.</summary>
    public int BatchStatements { get; init; } = 200;
}

internal sealed record ScriptRunSummary(int Statements, long Rows, int CopyBlocks, int Skipped, int LastLine);

/// <summary>A statement of the script failed: its file line, and Postgres's error.</summary>
internal sealed class ScriptRunException(int line, string message, string? hint, string? sqlState, Exception? inner = null)
    : GraduationException($"line {line}: {message}", hint, inner)
{
    public int Line { get; } = line;

    public string? SqlState { get; } = sqlState;
}

/// <summary>
/// Runs a psql script (a plain pg_dump file) against a connection the way
/// <c>psql -v ON_ERROR_STOP=1 [-1]</c> does: statement by statement (batched inside a single
/// transaction), COPY blocks through COPY FROM STDIN, \restrict/\unrestrict honoured, \connect to
/// the one database noted; the first error stops it and names the file line.
/// </summary>
internal sealed partial class ScriptRunner(NpgsqlConnection connection, ScriptRunOptions options, ProgressLog log)
{
    private readonly List<ScriptStatement> _pending = [];
    private int _pendingChars;
    private int _statements;
    private long _rows;
    private int _copyBlocks;
    private int _skipped;
    private int _line;
    private string? _restrictKey;
    private bool _connectNoted;
    private TextWriter? _copy;
    private ScriptStatement? _copyStatement;
    private int _copyFirstLine;
    private long _copyChars;
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
    private readonly HashSet<string> _ensuredRoles = new(StringComparer.Ordinal);

    /// <summary>Where the script is, for progress ("34%"); optional.</summary>
    public Func<string>? Position { get; init; }

    /// <summary>A pg_dump file must end its last statement: a cut one means a truncated file.</summary>
    public bool RequireTerminatedStatements { get; init; }

    public async Task<ScriptRunSummary> RunAsync(ScriptReader reader, CancellationToken cancellationToken)
    {
        NoticeEventHandler onNotice = (_, e) =>
        {
            if (e.Notice.Severity is "WARNING")
                log.Warn($"server: {e.Notice.MessageText}");
        };
        connection.Notice += onNotice;
        NpgsqlTransaction? transaction = null;
        try
        {
            if (options.SingleTransaction)
                transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (options.CreateMissingRoles)
                await ReadExistingRolesAsync(cancellationToken);
            while (NextItem(reader) is { } item)
            {
                _line = item.Line;
                await RunItemAsync(item, reader, cancellationToken);
                if (_sinceProgress.Elapsed > TimeSpan.FromSeconds(2))
                {
                    _sinceProgress.Restart();
                    log.Progress($"line {_line:N0}{(Position is null ? "" : $" ({Position()})")}, {_statements:N0} statements, {_rows:N0} rows");
                }
            }
            await FlushAsync(cancellationToken);
            if (_restrictKey is not null)
                throw new ScriptRunException(_line, "the file ends while backslash commands are restricted (\\restrict without its \\unrestrict): it is truncated", null, null);
            if (transaction is not null)
                await transaction.CommitAsync(cancellationToken);
            return new ScriptRunSummary(_statements, _rows, _copyBlocks, _skipped, _line);
        }
        finally
        {
            connection.Notice -= onNotice;
            if (transaction is not null)
                await transaction.DisposeAsync();
        }
    }

    private static ScriptItem? NextItem(ScriptReader reader)
    {
        try
        {
            return reader.Next();
        }
        catch (ScriptFormatException error)
        {
            throw new ScriptRunException(error.Line, error.Reason, null, null, error);
        }
    }

    private async Task RunItemAsync(ScriptItem item, ScriptReader reader, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case ScriptStatement statement:
                if (!statement.Terminated && RequireTerminatedStatements)
                    throw new ScriptRunException(statement.Line, "the file ends in the middle of this statement: it is truncated", null, null);
                if (statement.StartsWith("SET", "STANDARD_CONFORMING_STRINGS"))
                    reader.StandardConformingStrings = !statement.Sql.Contains("off", StringComparison.OrdinalIgnoreCase);
                if (Skip(statement))
                {
                    _skipped++;
                    return;
                }
                if (statement.IsCopyFromStdin)
                {
                    await FlushAsync(cancellationToken);
                    _copyStatement = statement;
                    _copyBlocks++;
                    await BeginCopyAsync(statement.Line + 1, cancellationToken);
                    return;
                }
                if (options.CreateMissingRoles)
                    EnsureRoles(statement);
                _pending.Add(statement);
                _pendingChars += statement.Sql.Length;
                if (!options.SingleTransaction || _pending.Count >= options.BatchStatements || _pendingChars > 1 << 20)
                    await FlushAsync(cancellationToken);
                return;
            case ScriptCopyData data:
                if (_copyStatement is null)
                    return; // the COPY statement itself was skipped
                if (_copyChars >= options.MaxCopyStatementChars && !IsCsv(_copyStatement))
                {
                    await EndCopyAsync(cancellationToken);
                    await BeginCopyAsync(data.Line, cancellationToken);
                }
                await WriteCopyAsync(data, cancellationToken);
                return;
            case ScriptCopyEnd:
                if (_copyStatement is not null)
                    await EndCopyAsync(cancellationToken);
                _copyStatement = null;
                return;
            case ScriptMetaCommand meta:
                await FlushAsync(cancellationToken);
                RunMetaCommand(meta);
                return;
            default:
                return;
        }
    }

    private async Task ReadExistingRolesAsync(CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT rolname FROM pg_catalog.pg_roles", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            _ensuredRoles.Add(reader.GetString(0));
    }

    private void EnsureRoles(ScriptStatement statement)
    {
        // Roles the script creates itself (CREATE ROLE, or the DO blocks of zeropg dump's roles
        // script) need nothing; only the others get a DO block before the statement naming them.
        foreach (var created in RoleReferences.Created(statement))
            _ensuredRoles.Add(created);
        var missing = RoleReferences.Find(statement).Where(_ensuredRoles.Add).ToList();
        if (missing.Count == 0)
            return;
        var body = new System.Text.StringBuilder();
        foreach (var role in missing)
        {
            var literal = RoleScript.QuoteLiteral(role);
            body.Append(CultureInfo.InvariantCulture, $"IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {literal}) THEN CREATE ROLE {RoleScript.QuoteIdentifier(role)} NOLOGIN; ")
                .Append(CultureInfo.InvariantCulture, $"RAISE WARNING 'created the missing role % (NOLOGIN) that line {statement.Line} names', {literal}; END IF; ");
        }
        var sql = $"DO $zeropg_roles$ BEGIN {body}END $zeropg_roles$";
        _pending.Add(new ScriptStatement(statement.Line, sql, 0, ["DO"], Terminated: true, IsCopyFromStdin: false));
    }

    private bool Skip(ScriptStatement statement)
    {
        if (statement.StartsWith("SET", "CLIENT_ENCODING"))
            return true; // the file was decoded with it; the connection stays UTF-8
        if (options.NoOwner && statement.StartsWith("ALTER") && IsOwnerTo(statement.Words))
            return true;
        if (options.NoPrivileges && (statement.StartsWith("GRANT") || statement.StartsWith("REVOKE") || statement.StartsWith("ALTER", "DEFAULT", "PRIVILEGES")))
            return true;
        if (options.SingleDatabase && (statement.StartsWith("CREATE", "DATABASE") || statement.StartsWith("ALTER", "DATABASE") || statement.StartsWith("COMMENT", "ON", "DATABASE")))
        {
            log.Warn($"line {statement.Line}: skipped (this restores into one database): {FirstLine(statement.Sql)}");
            return true;
        }
        return false;
    }

    private static bool IsOwnerTo(IReadOnlyList<string> words)
    {
        for (var i = 1; i + 1 < words.Count; i++)
        {
            if (words[i] == "OWNER" && words[i + 1] == "TO")
                return true;
        }
        return false;
    }

    private static bool IsCsv(ScriptStatement copy) => copy.Words.Contains("CSV") || copy.Sql.Contains("csv", StringComparison.OrdinalIgnoreCase);

    private void RunMetaCommand(ScriptMetaCommand meta)
    {
        var argument = meta.Arguments.Count > 0 ? meta.Arguments[0] : null;
        if (_restrictKey is not null && meta.Name != "unrestrict")
            throw new ScriptRunException(meta.Line, $"\\{meta.Name}: backslash commands are restricted here (\\restrict); only \\unrestrict with its key is allowed", null, null);
        switch (meta.Name)
        {
            case "restrict":
                _restrictKey = argument ?? throw new ScriptRunException(meta.Line, "\\restrict needs a key", null, null);
                return;
            case "unrestrict":
                if (_restrictKey is null || argument != _restrictKey)
                    throw new ScriptRunException(meta.Line, "\\unrestrict: the key does not match the \\restrict before it", null, null);
                _restrictKey = null;
                return;
            case "connect" or "c":
                if (!_connectNoted)
                    log.Warn($"line {meta.Line}: \\{meta.Name} {argument} ignored: everything is restored into the one target database");
                _connectNoted = true;
                return;
            default:
                throw new ScriptRunException(meta.Line, $"the psql command \\{meta.Name} is not supported here", "zeropg restore runs SQL, COPY blocks, \\connect and \\restrict/\\unrestrict (what pg_dump writes).", null);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
            return;
        await using var batch = new NpgsqlBatch(connection);
        foreach (var statement in _pending)
            batch.BatchCommands.Add(new NpgsqlBatchCommand(statement.Sql));
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException error)
        {
            // The commands before the failing one completed: Npgsql set their statement type.
            var index = 0;
            while (index < batch.BatchCommands.Count - 1 && batch.BatchCommands[index].StatementType != StatementType.Unknown)
                index++;
            var statement = _pending[index];
            throw Failure(statement.Line, error, $"in: {FirstLine(statement.Sql)}");
        }
        _statements += _pending.Count;
        _pending.Clear();
        _pendingChars = 0;
    }

    private async Task BeginCopyAsync(int firstDataLine, CancellationToken cancellationToken)
    {
        var statement = _copyStatement!;
        _copyFirstLine = firstDataLine;
        _copyChars = 0;
        try
        {
            _copy = await connection.BeginTextImportAsync(statement.Sql.TrimEnd(), cancellationToken);
        }
        catch (PostgresException error)
        {
            throw Failure(statement.Line, error, $"in: {FirstLine(statement.Sql)}");
        }
    }

    private async Task WriteCopyAsync(ScriptCopyData data, CancellationToken cancellationToken)
    {
        try
        {
            await _copy!.WriteAsync(data.Raw.AsMemory(), cancellationToken);
        }
        catch (PostgresException error)
        {
            throw CopyFailure(error);
        }
        _copyChars += data.Raw.Length;
        _rows += data.Rows;
    }

    private async Task EndCopyAsync(CancellationToken cancellationToken)
    {
        var copy = _copy;
        _copy = null;
        if (copy is null)
            return;
        try
        {
            await copy.DisposeAsync();
        }
        catch (PostgresException error)
        {
            throw CopyFailure(error);
        }
        _statements++;
        cancellationToken.ThrowIfCancellationRequested();
    }

    private ScriptRunException CopyFailure(PostgresException error)
    {
        // Postgres names the row in the COPY's own numbering: "COPY t, line 3, column v: ...".
        var line = _copyStatement!.Line;
        if (error.Where is { } where && CopyLine().Match(where) is { Success: true } match)
            line = _copyFirstLine + int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) - 1;
        return Failure(line, error, $"in the data of: {FirstLine(_copyStatement.Sql)}");
    }

    private static ScriptRunException Failure(int line, PostgresException error, string context)
    {
        var message = $"ERROR {error.SqlState}: {error.MessageText}";
        if (error.Detail is { Length: > 0 } detail)
            message += $"\n  detail: {detail}";
        message += $"\n  {context}";
        var hint = error.Hint;
        if (error.SqlState == PostgresErrorCodes.UndefinedObject && error.MessageText.StartsWith("role ", StringComparison.Ordinal))
            hint ??= "The script refers to a role the target lacks: create it first, or skip ownership and grants with --no-owner --no-privileges.";
        if (error.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            hint ??= "Restore as a user who may create these objects (the database owner or a superuser).";
        return new ScriptRunException(line, message, hint, error.SqlState, error);
    }

    private static string FirstLine(string sql)
    {
        var line = sql.AsSpan().TrimStart();
        var end = line.IndexOf('\n');
        var first = (end < 0 ? line : line[..end]).TrimEnd().ToString();
        return first.Length > 120 ? first[..117] + "..." : first;
    }

    [GeneratedRegex(@"COPY [^,]+, line (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex CopyLine();
}
