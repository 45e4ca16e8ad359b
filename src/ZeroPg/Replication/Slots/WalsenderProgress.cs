namespace ZeroPg.Replication.Slots;

/// <summary>Where one streaming walsender stands, as pg_stat_replication shows it (immutable: replaced whole).
/// An LSN of 0/0 (a client that reports no applied position, as pg_recvlogical) reads NULL there, as in Postgres.</summary>
internal sealed record WalsenderPosition(string Slot, DateTimeOffset Started, Lsn Sent, Lsn Write, Lsn Flush, Lsn Replay,
    TimeSpan? WriteLag, TimeSpan? FlushLag, TimeSpan? ReplayLag, DateTimeOffset? ReplyTime);

/// <summary>
/// One stream's progress: what it sent and what its client reported written, flushed and applied, with the lags
/// Postgres's walsender measures (LagTracker): the time from sending WAL up to a position until the client reports
/// that position; cleared after two replies in a row that report everything sent as applied. Written by the stream
/// (its session's thread), read by any session for pg_stat_replication through <see cref="Current"/>.
/// </summary>
internal sealed class WalsenderProgress(string slot)
{
    private const int MaxSamples = 1024;
    private readonly Queue<(Lsn Lsn, DateTimeOffset At)>[] _samples = [new(), new(), new()];
    private volatile WalsenderPosition _current = new(slot, DateTimeOffset.UtcNow, Lsn.Invalid, Lsn.Invalid, Lsn.Invalid, Lsn.Invalid, null, null, null, null);
    private bool _caughtUp;

    public WalsenderPosition Current => _current;

    /// <summary>Everything up to <paramref name="end"/> has been sent (or, for a keepalive, needs nothing more).</summary>
    public void Sent(Lsn end)
    {
        var now = _current;
        if (end <= now.Sent)
            return;
        var at = DateTimeOffset.UtcNow;
        foreach (var queue in _samples)
        {
            if (queue.Count == MaxSamples)
                queue.Dequeue();
            queue.Enqueue((end, at));
        }
        _current = now with { Sent = end };
    }

    /// <summary>A standby status update: the client wrote, flushed and applied up to these positions at <paramref name="clientTime"/>.</summary>
    public void Reply(Lsn write, Lsn flush, Lsn apply, DateTimeOffset clientTime)
    {
        var now = _current;
        var at = DateTimeOffset.UtcNow;
        var allApplied = write == now.Sent && flush == now.Sent && apply == now.Sent;
        var clear = allApplied && _caughtUp;
        _caughtUp = allApplied;
        _current = now with
        {
            Write = write, Flush = flush, Replay = apply, ReplyTime = clientTime,
            WriteLag = clear ? null : Lag(0, write, at) ?? now.WriteLag,
            FlushLag = clear ? null : Lag(1, flush, at) ?? now.FlushLag,
            ReplayLag = clear ? null : Lag(2, apply, at) ?? now.ReplayLag,
        };
    }

    /// <summary>The time since the newest send the client's position covers (null when it covers no new one).</summary>
    private TimeSpan? Lag(int kind, Lsn reported, DateTimeOffset at)
    {
        var queue = _samples[kind];
        DateTimeOffset? sent = null;
        while (queue.Count > 0 && queue.Peek().Lsn <= reported)
            sent = queue.Dequeue().At;
        return sent is { } time ? at - time : null;
    }
}
