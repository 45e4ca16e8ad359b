using System.Collections.Concurrent;

namespace ZeroPg.Sessions;

/// <summary>
/// Every client's session advisory locks, kept outside the engine so that an engine restart (a crash, or the kill that
/// stops a query the engine could not cancel) keeps them: ZeroPg's lock table lives in the engine session and dies with
/// it, and the first session to install the lock functions in a new engine puts these back (<see cref="AdvisoryLocks.BeforeUseAsync"/>).
/// A client's entry is the VALUES list of its rows (<see cref="AdvisoryLockSql.Snapshot"/>), taken after each of its units
/// that used advisory locks once its transaction ended. Thread-safe: each session writes its own entry, the installer reads all.
/// </summary>
internal sealed class AdvisoryLockKeeper
{
    private readonly ConcurrentDictionary<int, string> _held = new();

    public void Keep(int processId, string? valueList)
    {
        if (string.IsNullOrEmpty(valueList))
            _held.TryRemove(processId, out _);
        else
            _held[processId] = valueList;
    }

    public void Forget(int processId) => _held.TryRemove(processId, out _);

    /// <summary>The VALUES lists of every client holding locks.</summary>
    public IEnumerable<string> All => _held.Values;
}
