using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// The statements auto-prepare made on one backend (<see cref="AutoPreparedRuns"/>), keyed by their client's settings and
/// parameterized text, at most <see cref="PoolAutoPrepare.Capacity"/>, the least recently used closed to make room. Those of an
/// older schema generation, or that failed to bind, are closed ahead of the next run (Close messages in its unit). Used by the
/// client that holds the backend: its loop as it writes a run, its forwarder as a run fails; <see cref="_lock"/> orders the two.
/// </summary>
internal sealed class BackendStatements
{
    private readonly object _lock = new();
    private readonly Dictionary<string, (byte[] Name, long LastUse)> _prepared = new(StringComparer.Ordinal);
    private readonly List<byte[]> _toClose = [];
    private long _generation;
    private long _clock;

    /// <summary>
    /// The statement for <paramref name="key"/> when the text is to run prepared, null to send it plain; <paramref name="parse"/>:
    /// it is new here and the run must prepare it first. Closes of statements this backend no longer keeps are written to
    /// <paramref name="output"/> (their CloseComplete is the run's to drop).
    /// </summary>
    public byte[]? Use(string key, PoolAutoPrepare shared, IBufferWriter<byte> output, out bool parse)
    {
        parse = false;
        lock (_lock)
        {
            var generation = shared.Generation;
            if (_generation != generation)
            {
                foreach (var (name, _) in _prepared.Values)
                    _toClose.Add(name);
                _prepared.Clear();
                _generation = generation;
            }
            byte[]? statement = null;
            if (_prepared.TryGetValue(key, out var entry))
            {
                _prepared[key] = (entry.Name, ++_clock);
                statement = entry.Name;
            }
            else if (shared.MayPrepare(key))
            {
                if (_prepared.Count >= shared.Capacity)
                {
                    var oldest = _prepared.MinBy(p => p.Value.LastUse);
                    _prepared.Remove(oldest.Key);
                    _toClose.Add(oldest.Value.Name);
                }
                statement = PoolAutoPrepare.NewName();
                _prepared[key] = (statement, ++_clock);
                parse = true;
            }
            if (statement is null)
                return null;
            foreach (var name in _toClose)
                TargetedMessage.Write(output, FrontendCode.Close, TargetedMessage.Statement, name);
            _toClose.Clear();
            return statement;
        }
    }

    /// <summary>
    /// A run of <paramref name="name"/> failed before it bound: forgotten here, and closed before the next run when it
    /// <paramref name="exists"/> (its Parse succeeded, or was an earlier run's).
    /// </summary>
    public void Failed(string key, byte[] name, bool exists)
    {
        lock (_lock)
        {
            if (_prepared.TryGetValue(key, out var entry) && entry.Name == name)
                _prepared.Remove(key);
            if (exists)
                _toClose.Add(name);
        }
    }

    /// <summary>A client's DISCARD ALL or DEALLOCATE ALL took the backend's statements: none is left to close.</summary>
    public void Forget()
    {
        lock (_lock)
        {
            _prepared.Clear();
            _toClose.Clear();
        }
    }
}
