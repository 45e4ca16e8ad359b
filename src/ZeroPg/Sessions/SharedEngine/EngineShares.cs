using System.Runtime.CompilerServices;

namespace ZeroPg.Sessions;

/// <summary>
/// The engine time each session has had, as start-time fair queueing counts it (Goyal et al.): a session's tag when it asks
/// is where its last hold ended on the virtual clock (its start there plus how long it held the engine), or the clock itself
/// when that is later; the clock is the tag of the session the engine works for. A session that held the engine for two
/// seconds asks with a tag two seconds ahead, and every session that asks for less goes first until the clock catches up:
/// its debt is paid in the others' turns, never forgiven by arriving early, and never more than what it held. Times are
/// Stopwatch ticks. Owned by <see cref="EngineScheduler"/>, under its lock; a session's share lives as long as the session
/// object (a weak table: nothing to remove when a session ends).
/// </summary>
internal sealed class EngineShares
{
    private readonly ConditionalWeakTable<object, Share> _shares = new();
    private long _clock;

    /// <summary>The queue place of <paramref name="session"/> if it asked now.</summary>
    public long Tag(object session) => _shares.TryGetValue(session, out var share) ? Math.Max(_clock, share.Finish) : _clock;

    /// <summary>The engine was granted to <paramref name="session"/>: the clock moves to its tag. Returns its share, for <see cref="Used"/>.</summary>
    public Share Started(object session)
    {
        var share = _shares.GetOrCreateValue(session);
        share.Start = Math.Max(_clock, share.Finish);
        _clock = share.Start;
        return share;
    }

    /// <summary>The session of <paramref name="share"/> gave the engine up after holding it <paramref name="ticks"/>.</summary>
    public static void Used(Share share, long ticks) => share.Finish = share.Start + Math.Max(0, ticks);

    internal sealed class Share
    {
        public long Start;
        public long Finish;
    }
}
