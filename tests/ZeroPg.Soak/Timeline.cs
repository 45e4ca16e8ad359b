using System.Diagnostics;

namespace ZeroPg.Soak;

/// <summary>
/// The run's clock and its faults: when each kill happened and when the server answered again. Workloads ask it whether
/// a moment was inside a fault's window (from the kill to <see cref="SoakOptions.FaultGrace"/> after recovery), where
/// errors and waits are excused. Written by the fault loop only; read by every workload (under the lock).
/// </summary>
public sealed class Timeline(TimeSpan grace)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Fault> _faults = [];

    public TimeSpan Now => _clock.Elapsed;

    /// <summary>Waits until the run's clock reaches <paramref name="due"/>; false when the run stops first.</summary>
    public async Task<bool> WaitUntilAsync(TimeSpan due, CancellationToken stop)
    {
        var wait = due - Now;
        if (wait <= TimeSpan.Zero)
            return !stop.IsCancellationRequested;
        try
        {
            await Task.Delay(wait, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Starts the clock again (before any fault): the run counts from the end of its setup.</summary>
    public void Restart() => _clock.Restart();

    public IReadOnlyList<Fault> Faults
    {
        get
        {
            lock (_faults)
                return [.. _faults];
        }
    }

    /// <summary>Bumps on every kill: a workload that saw it change knows its connection may be gone.</summary>
    public int Generation
    {
        get
        {
            lock (_faults)
                return _faults.Count;
        }
    }

    public Fault BeginFault(string kind)
    {
        var fault = new Fault(kind, Now);
        lock (_faults)
            _faults.Add(fault);
        return fault;
    }

    public void Recovered(Fault fault)
    {
        lock (_faults)
            fault.RecoveredAt = Now;
    }

    /// <summary>Whether [from, to] touches a fault's window (an open one: everything after its kill).</summary>
    public bool Overlaps(TimeSpan from, TimeSpan to)
    {
        lock (_faults)
        {
            foreach (var fault in _faults)
            {
                var end = (fault.RecoveredAt ?? TimeSpan.MaxValue - grace) + grace;
                if (from <= end && to >= fault.KilledAt)
                    return true;
            }
        }
        return false;
    }

    public bool InFault(TimeSpan at) => Overlaps(at, at);

    public sealed class Fault(string kind, TimeSpan killedAt)
    {
        public string Kind { get; } = kind;

        public TimeSpan KilledAt { get; } = killedAt;

        public TimeSpan? RecoveredAt { get; set; }
    }
}
