using System.Buffers;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// A client's BEGIN sent as a simple Query (plain, or with an isolation level: <see cref="SqlAnalysis.IsDeferrableBegin"/>),
/// answered by ZeroPg and sent to the backend ahead of the client's next message, in the same write: a transaction holds a
/// backend from its first statement, not from its BEGIN. That is one client round trip less per transaction at a backend
/// (pgbench's TPC-B, and Npgsql's and so EF Core's transactions, start with a BEGIN Query of their own), and one backend write
/// and reply fewer. Only such a BEGIN: on the idle backend a lending starts from, it cannot fail or warn, so ZeroPg's answer is
/// the backend's. What a client can tell: the transaction's start time (now()) is its first statement's, and a client idle
/// after its BEGIN holds no backend.
/// A statement of the block that gets no backend (the pool's wait timed out, a cancel) fails the block, as in Postgres: the
/// block is then begun and failed again on the backend it is next lent, so COMMIT answers ROLLBACK and other statements 25P02
/// there, as they would have.
/// Thread: the client's loop, under its gate.
/// </summary>
internal sealed class DeferredBegin
{
    private static readonly byte[] Begin = WireClient.Typed(FrontendCode.Query, "BEGIN\0"u8);
    // Fails the block again: an error with no effect, whose reply is dropped as the BEGIN's is.
    private static readonly byte[] FailBlock = WireClient.Typed(FrontendCode.Query, "SELECT 1/0\0"u8);

    private enum State : byte { None, Begun, Failed }

    private State _state;
    // The text last found a BEGIN (at first pgbench's), its tag and its message: the same text again is not lexed again. A pending
    // BEGIN is always this one (no text is looked at while one is pending).
    private (string Text, string Tag, byte[] Message) _last = ("BEGIN;", "BEGIN", Begin);

    /// <summary>A BEGIN was answered and has not reached a backend yet.</summary>
    public bool Pending => _state != State.None;

    /// <summary>The status the client was last told while the BEGIN is pending.</summary>
    public TransactionStatus Status => _state == State.Failed ? TransactionStatus.Failed : TransactionStatus.InTransaction;

    /// <summary>The CommandComplete tag of a text that is a BEGIN ZeroPg may answer (<see cref="SqlAnalysis.IsDeferrableBegin"/>), else null.</summary>
    public string? BeginTag(ReadOnlySpan<char> sql)
    {
        if (sql.SequenceEqual(_last.Text))
            return _last.Tag;
        var start = sql.TrimStart();
        if (sql.Length > 128 || !(start.StartsWith("BEGIN", StringComparison.OrdinalIgnoreCase) || start.StartsWith("START", StringComparison.OrdinalIgnoreCase)))
            return null; // the common case, no lexing: every statement that is not one
        var text = sql.ToString();
        var analysis = SqlAnalysis.Of(text);
        if (!analysis.IsDeferrableBegin)
            return null;
        _last = (text, analysis.BeginTag, analysis.IsPlainBegin ? Begin : WireClient.Typed(FrontendCode.Query, [.. Encoding.UTF8.GetBytes(text), 0]));
        return _last.Tag;
    }

    /// <summary>The client's BEGIN, the text <see cref="BeginTag"/> last found one, answered by the caller.</summary>
    public void Take() => _state = State.Begun;

    /// <summary>A statement of the pending block got no backend and was answered with its error: the block failed.</summary>
    public void Fail() => _state = State.Failed;

    /// <summary>
    /// Writes the pending BEGIN (and, for a failed block, a statement that fails it again) ahead of the client's message on the
    /// backend it was lent; the number of replies, each ended by a ReadyForQuery, the forwarder drops.
    /// </summary>
    public int WriteAhead(IBufferWriter<byte> toBackend)
    {
        if (_state == State.None)
            return 0;
        toBackend.Write(_last.Message);
        var replies = 1;
        if (_state == State.Failed)
        {
            toBackend.Write(FailBlock);
            replies++;
        }
        _state = State.None;
        return replies;
    }
}
