using System.Buffers;
using System.Collections.Concurrent;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// One pooled client's auto-prepare, as the PGlite session layer's (<see cref="Sessions.AutoPrepare"/>): a simple Query that can
/// run prepared with the same meaning (<see cref="AutoParameterizer"/>) and ran once without error goes to its backend as Close
/// (of statements the backend no longer keeps), Parse (the first time on that backend), Bind with the literals' values as text,
/// Describe, Execute and Sync, and the replies a Query would not get (ParseComplete, BindComplete, CloseComplete, NoData) are
/// dropped: the client sees its Query's reply, and the backend parses and plans the text once instead of at each run.
/// A run that fails before it binds (a statement a schema change outside ZeroPg left stale) is sent again as the client's
/// Query when nothing else of the client's is on the backend and no transaction block is open, so the client gets the plain
/// Query's answer; inside a block (where the failure would end the block) only texts without a * run prepared, so that a
/// column added by another connection cannot change a prepared result's type.
/// Threads: the client's loop writes runs (<see cref="TryWrite"/>, under the client's gate); its forwarder reads their
/// replies (<see cref="Take"/>); <see cref="_sent"/> hands runs from one to the other, in the order their units were sent.
/// </summary>
internal sealed class AutoPreparedRuns(PoolAutoPrepare shared, Hosting.ZeroPgMetrics? metrics)
{
    private static readonly byte[] NoParameterTypes = [0, 0];

    /// <summary>Words of the statements that take a session's prepared statements (DISCARD ALL, DEALLOCATE ALL), looked for before any lexing.</summary>
    private static readonly SearchValues<string> DiscardWords = SearchValues.Create(["deallocate", "discard"], StringComparison.OrdinalIgnoreCase);

    private readonly List<SqlToken> _tokens = new(64);
    private readonly ConcurrentQueue<Run> _sent = new();
    private readonly ArrayBufferWriter<byte> _retryQuery = new(256); // the Query of the one run that may be sent again (the loop writes it, the forwarder under the gate reads it)
    private long _unitsSent; // the loop's: messages sent that a ReadyForQuery answers
    private long _unitsAnswered; // the forwarder's: ReadyForQuery forwarded to the client
    private long _unitLookedUp; // the forwarder's: the unit whose run (or none) is in _answering
    private Run? _answering;
    private bool _schemaChangedInBlock; // the loop's: prepare nothing until the client is idle again, then invalidate (a rollback undid it)
    private bool _stopped; // the loop's: units can no longer be told apart (Stop)

    /// <summary>What the forwarder does with a backend message of the client's.</summary>
    public enum Reply : byte
    {
        Forward,
        Drop,
        /// <summary>A run failed before it bound, and may be sent again: the error is held (<see cref="TakeHeldError"/>).</summary>
        Hold,
        /// <summary>The ReadyForQuery of a run whose error is held: the client's forwarder sends it again (<see cref="Retried"/>) or forwards the error (<see cref="TakeHeldError"/>).</summary>
        Decide,
    }

    private sealed class Run(long unit, string key, byte[]? name, bool parse, bool retryable)
    {
        public long Unit { get; } = unit;
        public string Key { get; } = key;
        public byte[]? Name { get; } = name; // null: a plain Query whose success makes its text preparable
        public bool Parse { get; } = parse;
        public bool Retryable { get; } = retryable;
        public bool Parsed { get; set; }
        public bool Bound { get; set; }
        public bool Failed { get; set; }
        public byte[]? HeldError { get; set; }
    }

    /// <summary>A message that a ReadyForQuery answers (Query, Sync, FunctionCall) goes to the backend. The loop's, for every one.</summary>
    public void CountUnit() => _unitsSent++;

    /// <summary>
    /// A Query or function call went to the backend inside an extended sequence: if the sequence failed, Postgres skips it up to the
    /// Sync and no ReadyForQuery answers it, so ReadyForQuery no longer tells which unit is answered. The client's Queries go as
    /// they came from then on (the runs already sent come before it, and are answered before it).
    /// </summary>
    public void Stop() => _stopped = true;

    /// <summary>
    /// A Query's or Parse's <paramref name="sql"/> goes to <paramref name="backend"/>: a DISCARD ALL or DEALLOCATE takes its
    /// statements, and a statement that may change the schema makes every backend's stale.
    /// </summary>
    public void Note(ReadOnlySpan<char> sql, PooledBackend backend)
    {
        if (sql.ContainsAny(DiscardWords))
            backend.Statements.Forget(); // DISCARD PLANS or TEMP leave them, unclosed until the backend closes: no name is reused
        if (MayChangeSchema(sql))
        {
            shared.Invalidate();
            _schemaChangedInBlock = true;
        }
    }

    /// <summary>
    /// Writes the client's Query <paramref name="message"/> (its text <paramref name="sql"/>, the unit just counted) as a prepared run
    /// on <paramref name="backend"/> and returns true; or returns false to send it as it came. <paramref name="settings"/>: the
    /// client's settings as the backend has them (they change how a text parses); <paramref name="alone"/>: the client is outside
    /// a transaction block and this is the only unit of its on the backend (the run can then be sent again as it came).
    /// </summary>
    public bool TryWrite(IBufferWriter<byte> output, PooledBackend backend, ReadOnlySpan<char> sql, ReadOnlySequence<byte> message, string settings, bool alone)
    {
        if (_stopped)
            return false;
        if (_schemaChangedInBlock)
        {
            if (!alone)
                return false;
            _schemaChangedInBlock = false;
            shared.Invalidate(); // the block that changed it ended: committed or rolled back, what was prepared inside it is stale
        }
        if (!IsParameterizable(sql))
            return false;
        var text = new string(sql);
        _tokens.Clear();
        if (SqlLexer.Lex(text, _tokens) != SqlDoubts.None || !AutoParameterizer.TryParameterize(text, new ListView<SqlToken>(_tokens), out var query))
            return false;
        if (!alone && query.Sql.Contains('*'))
            return false; // in a block: a * whose columns another connection changes would fail the block (see the class)
        var key = settings.Length == 0 ? query.Sql : settings + "\n" + query.Sql;
        var name = backend.Statements.Use(key, shared, output, out var parse);
        if (name is null)
        {
            _sent.Enqueue(new Run(_unitsSent, key, null, false, false)); // plain: its success makes it preparable
            return false;
        }
        if (parse)
            ParseMessage.Write(output, name, System.Text.Encoding.UTF8.GetBytes(query.Sql), NoParameterTypes);
        BindMessage.WriteText(output, [], name, query.Values);
        TargetedMessage.Write(output, FrontendCode.Describe, TargetedMessage.Portal, []);
        ExecuteMessage.Write(output, [], 0);
        EmptyFrontendMessage.Write(output, FrontendCode.Sync);
        if (alone)
        {
            _retryQuery.ResetWrittenCount();
            foreach (var segment in message)
                _retryQuery.Write(segment.Span);
        }
        _sent.Enqueue(new Run(_unitsSent, key, name, parse, alone));
        metrics?.RecordAutoPreparedRun();
        return true;
    }

    /// <summary>The client's Query as it came, for the run whose error is held (<see cref="Reply.Decide"/>); the caller holds the gate.</summary>
    public ReadOnlyMemory<byte> RetryQuery => _retryQuery.WrittenMemory;

    /// <summary>
    /// A backend message of the client's unit (not one of ZeroPg's own ahead of it) reached the forwarder: forward it, drop it, or
    /// hold it. Message codes that may come between units (notices, notifications, reported settings) are always forwarded.
    /// </summary>
    public Reply Take(BackendCode code, ReadOnlySpan<byte> message, PooledBackend backend)
    {
        if (code is BackendCode.NoticeResponse or BackendCode.NotificationResponse or BackendCode.ParameterStatus)
            return Reply.Forward;
        if (_unitLookedUp != _unitsAnswered + 1)
        {
            // The first message of the unit: the run was queued before the unit was sent, so before any reply to it came.
            _unitLookedUp = _unitsAnswered + 1;
            _answering = _sent.TryPeek(out var next) && next.Unit == _unitLookedUp && _sent.TryDequeue(out next) ? next : null;
        }
        if (_answering is not { } run)
        {
            if (code == BackendCode.ReadyForQuery)
                _unitsAnswered++;
            return Reply.Forward;
        }
        if (run.Name is null)
        {
            // A plain Query that may be prepared next time, if it ran without error.
            if (code == BackendCode.ErrorResponse)
                run.Failed = true;
            else if (code == BackendCode.ReadyForQuery)
            {
                if (!run.Failed)
                    shared.RanOnce(run.Key);
                Answered();
            }
            return Reply.Forward;
        }
        switch (code)
        {
            case BackendCode.ParseComplete:
                run.Parsed = true;
                return Reply.Drop;
            case BackendCode.BindComplete:
                run.Bound = true;
                return Reply.Drop;
            case BackendCode.CloseComplete or BackendCode.NoData:
                return Reply.Drop;
            case BackendCode.ErrorResponse when !run.Bound:
                backend.Statements.Failed(run.Key, run.Name, exists: !run.Parse || run.Parsed);
                if (run.Parse && !run.Parsed)
                    shared.Refuse(run.Key); // it would not prepare: plain from now on, with its own error
                if (!run.Retryable || !MayRetry(ErrorResponse.ReadSqlState(message[MessageFramer.HeaderLength..]), run))
                    return Reply.Forward;
                run.HeldError = message.ToArray();
                return Reply.Hold;
            case BackendCode.ReadyForQuery:
                if (run.HeldError is not null)
                    return Reply.Decide;
                Answered();
                return Reply.Forward;
            default:
                return Reply.Forward;
        }
    }

    /// <summary>
    /// Errors that the prepared run alone gets, so the plain Query is sent in its place: its statement was missing (26000) or its
    /// result's columns changed (0A000), or its Parse failed (the plain Query's error then carries the client's own text and
    /// positions). Not a cancel or a timeout (class 57), whose client is answered as it asked, nor a lock or resource failure.
    /// </summary>
    private static bool MayRetry(string? sqlState, Run run) =>
        sqlState is "0A000" or "26000" || (run.Parse && !run.Parsed && sqlState is { Length: 5 } && sqlState.StartsWith("42", StringComparison.Ordinal));

    /// <summary>The run whose error is held was sent again as the client's Query: its answer is the unit's.</summary>
    public void Retried()
    {
        _answering = null; // the unit now is the plain Query's (its number stays: the looked-up run was taken)
    }

    /// <summary>The run whose error is held was not sent again: its error goes to the client, and its ReadyForQuery after it.</summary>
    public byte[] TakeHeldError()
    {
        var error = _answering!.HeldError!;
        Answered();
        return error;
    }

    private void Answered()
    {
        _answering = null;
        _unitsAnswered++;
    }

    /// <summary>Only SELECT, INSERT, UPDATE and DELETE are parameterized: a look at the first word before any lexing.</summary>
    private static bool IsParameterizable(ReadOnlySpan<char> sql)
    {
        var word = FirstWord(sql);
        return word.Equals("select", StringComparison.OrdinalIgnoreCase) || word.Equals("insert", StringComparison.OrdinalIgnoreCase)
            || word.Equals("update", StringComparison.OrdinalIgnoreCase) || word.Equals("delete", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Whether <paramref name="sql"/> may change the schema (<see cref="SqlAnalysis.MayChangeSchema"/>): one statement that begins
    /// with a word known to keep it is decided without lexing, as most are.
    /// </summary>
    private static bool MayChangeSchema(ReadOnlySpan<char> sql)
    {
        var text = sql.Trim().TrimEnd(';');
        if (text.IndexOf(';') < 0 && FirstWord(text) is { IsEmpty: false } word && SqlAnalysis.KeepsSchemaWord(word))
            return false;
        return SqlAnalysis.Of(sql.ToString()).MayChangeSchema();
    }

    /// <summary>The letters <paramref name="sql"/> begins with after white space (empty after a comment or a parenthesis).</summary>
    private static ReadOnlySpan<char> FirstWord(ReadOnlySpan<char> sql)
    {
        var text = sql.TrimStart();
        var end = 0;
        while (end < text.Length && char.IsAsciiLetter(text[end]))
            end++;
        return text[..end];
    }
}
