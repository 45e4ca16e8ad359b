namespace ZeroPg.Soak;

/// <summary>
/// When each heavy client operation ran (a COPY's load and read-back, CREATE/DROP DATABASE, a cancelled statement), on the
/// run's clock: a witness answer slower than a second is reported beside the operations it overlapped, which is what it can
/// have waited behind (they share the database's one engine). The server's log says who held the engine (EngineHoldLog).
/// Written by every workload, read at the report (under the lock).
/// </summary>
public sealed class Activities(Timeline timeline)
{
    private readonly List<(string Name, TimeSpan From, TimeSpan To)> _done = [];

    /// <summary>Records [now, dispose) under <paramref name="name"/>.</summary>
    public Span Begin(string name) => new(this, name, timeline.Now);

    public void Add(string name, TimeSpan from, TimeSpan to)
    {
        lock (_done)
            _done.Add((name, from, to));
    }

    /// <summary>The operations that ran during [from, to], each with how many seconds of it they covered.</summary>
    public string Overlapping(TimeSpan from, TimeSpan to)
    {
        lock (_done)
        {
            var names = _done.Where(a => a.From < to && a.To > from)
                .Select(a => $"{a.Name} {((a.To < to ? a.To : to) - (a.From > from ? a.From : from)).TotalSeconds:F1} s")
                .ToList();
            return names.Count == 0 ? "nothing heavy (pgbench, churn, NOTIFY, the consumer only)" : string.Join(", ", names);
        }
    }

    /// <summary>Per operation kind: how many slow witness answers it overlapped (an answer can count for several).</summary>
    public Dictionary<string, int> Blame(IEnumerable<(TimeSpan From, TimeSpan To)> slow)
    {
        var blame = new Dictionary<string, int>();
        lock (_done)
        {
            foreach (var (from, to) in slow)
            {
                var kinds = _done.Where(a => a.From < to && a.To > from).Select(a => a.Name).Distinct().ToList();
                if (kinds.Count == 0)
                    kinds.Add("none");
                foreach (var kind in kinds)
                    blame[kind] = blame.GetValueOrDefault(kind) + 1;
            }
        }
        return blame;
    }

    public readonly struct Span(Activities activities, string name, TimeSpan from) : IDisposable
    {
        public void Dispose() => activities.Add(name, from, activities.Now);
    }

    private TimeSpan Now => timeline.Now;
}
