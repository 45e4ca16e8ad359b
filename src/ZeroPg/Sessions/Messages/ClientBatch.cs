using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// The client's messages accepted and not yet sent to the engine: their bytes (with room for the host
/// frame header, so unchanged messages go out without another copy) and what was parsed from each
/// (<see cref="ClientMessage"/>). A unit of work ends at Sync, Query, Flush or FunctionCall; everything up
/// to the last unit end is ready to run (<see cref="CompleteCount"/>).
/// </summary>
internal sealed class ClientBatch
{
    private readonly BatchBuffer _bytes = new();
    private readonly List<ClientMessage> _messages = [];

    public IReadOnlyList<ClientMessage> Messages => _messages;

    public int Count => _messages.Count;

    public bool IsEmpty => _messages.Count == 0;

    /// <summary>Bytes of messages held.</summary>
    public int ByteCount => _bytes.MessageBytes;

    /// <summary>How many messages, from the first, make whole units.</summary>
    public int CompleteCount { get; private set; }

    public ReadOnlySpan<byte> Bytes(ClientMessage message) => _bytes.Messages.Slice(message.Offset, message.Length);

    /// <summary>Takes in one whole client message, parsing it once; <paramref name="sql"/> when the caller already analysed a Query.</summary>
    public void Add(FrontendCode code, ReadOnlySequence<byte> message, SqlAnalysis? sql = null)
    {
        var offset = _bytes.MessageBytes;
        _bytes.Append(message);
        _messages.Add(ClientMessage.Accept(code, offset, _bytes.Messages.Slice(offset, (int)message.Length), sql));
    }

    /// <summary>The message just added is not run: the engine raises <paramref name="error"/> in its place, and skips to the Sync.</summary>
    public void RefuseLast(PgError error) => _messages[^1] = _messages[^1] with { Refusal = error };

    /// <summary>The message just added ends a unit.</summary>
    public void EndUnit() => CompleteCount = _messages.Count;

    /// <summary>
    /// Messages that go to the engine in one call at most (<see cref="FirstUnits"/>): past them the call is cut, inside an
    /// extended sequence not yet ended by Sync too. The fuzzer's floods of 2,400 messages without a Sync were one engine call of
    /// 25-38 s that every other client waited for, with no point between where the session could look at them
    /// (<see cref="UnitRunner"/>'s pipeline limit).
    /// </summary>
    public const int MaxMessagesPerCall = 128;

    /// <summary>
    /// How many of the first <paramref name="count"/> messages make at most <paramref name="units"/> units ending in a
    /// ReadyForQuery (Sync, Query, FunctionCall), and at most <see cref="MaxMessagesPerCall"/> messages:
    /// <paramref name="count"/> when they make no more. A cut never falls right after a Bind: a portal and its first use go
    /// to the engine in one call, where the last checks before the engine see them together (<see cref="UnitRewriter"/>).
    /// </summary>
    public int FirstUnits(int count, int units)
    {
        for (var i = 0; i < count; i++)
        {
            if (i >= MaxMessagesPerCall && _messages[i - 1].Code != FrontendCode.Bind)
                return i;
            if (_messages[i].Code.AsksForReady() && --units == 0)
                return i + 1;
        }
        return count;
    }

    /// <summary>The messages held are one whole unit: exactly one asks for a ReadyForQuery (Sync, Query, FunctionCall), the last.</summary>
    public bool IsOneUnit
    {
        get
        {
            for (var i = 0; i < _messages.Count - 1; i++)
            {
                if (_messages[i].Code.AsksForReady())
                    return false;
            }
            return _messages.Count > 0 && _messages[^1].Code.AsksForReady();
        }
    }

    /// <summary>
    /// Whether the first of the first <paramref name="count"/> messages belongs to an extended sequence whose Sync is among them:
    /// the first message asking for a ReadyForQuery is a Sync (not a Query or FunctionCall, which end what comes before them otherwise).
    /// </summary>
    public bool SyncAhead(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var code = _messages[i].Code;
            if (code.AsksForReady())
                return code == FrontendCode.Sync;
        }
        return false;
    }

    /// <summary>One ReadyForQuery is due per Sync, Query and FunctionCall among the first <paramref name="count"/> messages.</summary>
    public int ReadyCount(int count)
    {
        var ready = 0;
        for (var i = 0; i < count; i++)
        {
            if (_messages[i].Code.AsksForReady())
                ready++;
        }
        return ready;
    }

    /// <summary>
    /// Whether an extended-query sequence is open after the first <paramref name="count"/> messages, given
    /// <paramref name="openBefore"/> (the engine's): the last Sync closes it, a later extended message opens it.
    /// </summary>
    public bool SequenceOpenAfter(int count, bool openBefore)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            var code = _messages[i].Code;
            if (code == FrontendCode.Sync)
                return false;
            if (code.IsExtendedQuery())
                return true;
        }
        return openBefore;
    }

    /// <summary>Drops the first <paramref name="count"/> messages once they were sent (or answered).</summary>
    public void Consume(int count)
    {
        if (count == 0)
            return;
        var bytes = count == _messages.Count ? _bytes.MessageBytes : _messages[count].Offset;
        _bytes.Consume(bytes);
        _messages.RemoveRange(0, count);
        for (var i = 0; i < _messages.Count; i++)
            _messages[i] = _messages[i] with { Offset = _messages[i].Offset - bytes };
        CompleteCount = Math.Max(0, CompleteCount - count);
    }
}
