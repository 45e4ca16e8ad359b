using ZeroPg.Sessions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

public sealed class EngineSchedulerTests
{
    private readonly EngineScheduler _scheduler = new();
    private readonly object _a = new(), _b = new(), _c = new();

    [Fact]
    public async Task The_engine_goes_to_waiters_in_arrival_order()
    {
        await _scheduler.AcquireAsync(_a, default);
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        var c = _scheduler.AcquireAsync(_c, default).AsTask();
        Assert.Same(_a, _scheduler.Owner);
        Assert.Equal(2, _scheduler.QueueLength);
        Assert.False(b.IsCompleted);
        _scheduler.Release(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_b, _scheduler.Owner);
        Assert.False(c.IsCompleted);
        _scheduler.Release(_b);
        await c.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_c, _scheduler.Owner);
        Assert.Equal(0, _scheduler.QueueLength);
    }

    [Fact]
    public async Task The_server_s_own_hold_waits_only_for_the_owner_ahead_of_the_queue()
    {
        await _scheduler.AcquireAsync(_a, default);
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        var server = _scheduler.AcquireFirstAsync(_c, default).AsTask();
        _scheduler.Release(_a);
        await server.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_c, _scheduler.Owner);
        Assert.False(b.IsCompleted);
        _scheduler.Release(_c);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_b, _scheduler.Owner);
    }

    [Fact]
    public async Task The_owner_acquires_again_at_once_and_only_the_owner_can_release()
    {
        await _scheduler.AcquireAsync(_a, default);
        Assert.True(_scheduler.AcquireAsync(_a, default).IsCompletedSuccessfully);
        _scheduler.Release(_b); // not the owner: nothing happens
        Assert.Same(_a, _scheduler.Owner);
        _scheduler.Release(_a);
        Assert.Null(_scheduler.Owner);
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_the_next_one_is_served()
    {
        await _scheduler.AcquireAsync(_a, default);
        using var cancel = new CancellationTokenSource();
        var b = _scheduler.AcquireAsync(_b, cancel.Token).AsTask();
        var c = _scheduler.AcquireAsync(_c, default).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        Assert.Equal(1, _scheduler.QueueLength);
        _scheduler.Release(_a);
        await c.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_c, _scheduler.Owner);
    }

    private sealed class OnlyImports(object exporter) : IEngineGate
    {
        public bool Closed { get; set; } = true;

        public int Releases { get; private set; }

        public bool Admits(object session, EngineAccess access) => !Closed || session == exporter || access != EngineAccess.Ordinary;

        public void Released(object session) => Releases++;
    }

    [Fact]
    public async Task A_gate_lets_the_admitted_waiters_go_first_and_the_others_keep_their_order()
    {
        object d = new();
        var gate = new OnlyImports(_a);
        _scheduler.Gate = gate;
        await _scheduler.AcquireAsync(_a, default);
        var b = _scheduler.AcquireAsync(_b, default).AsTask(); // ordinary: waits
        var d1 = _scheduler.AcquireAsync(d, default).AsTask();  // ordinary: waits behind b
        var c = _scheduler.AcquireAsync(_c, default, EngineAccess.Import).AsTask();
        _scheduler.Release(_a);
        await c.WaitAsync(TimeSpan.FromSeconds(5)); // the importer overtakes
        Assert.Same(_c, _scheduler.Owner);
        _scheduler.Release(_c);
        Assert.Null(_scheduler.Owner); // nobody admitted is waiting: the engine stays free
        Assert.Equal(2, gate.Releases);
        Assert.False(b.IsCompleted);
        gate.Closed = false;
        _scheduler.Kick();
        await b.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(d1.IsCompleted);
        _scheduler.Release(_b);
        await d1.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(d, _scheduler.Owner);
    }

    [Fact]
    public async Task The_server_s_housekeeping_takes_the_engine_only_when_nobody_holds_or_waits_for_it_and_the_gate_admits_anyone()
    {
        Assert.True(_scheduler.TryAcquire(_c));
        Assert.Same(_c, _scheduler.Owner);
        _scheduler.Release(_c);

        await _scheduler.AcquireAsync(_a, default);
        Assert.False(_scheduler.TryAcquire(_c)); // held
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        Assert.False(_scheduler.TryAcquire(_c)); // held, and a client waits
        _scheduler.Release(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
        _scheduler.Release(_b);

        var gate = new OnlyImports(_a) { Closed = false }; // a gate that has stayed after an export admits anyone
        _scheduler.Gate = gate;
        Assert.True(_scheduler.TryAcquire(_c));
        _scheduler.Release(_c);
        gate.Closed = true; // a snapshot held for its importers: not now
        Assert.False(_scheduler.TryAcquire(_c));
        Assert.Null(_scheduler.Owner);
    }

    [Fact]
    public async Task A_session_asking_while_the_owner_hands_over_takes_the_engine_at_once()
    {
        await _scheduler.AcquireAsync(_a, default);
        _scheduler.HandOver(_a); // a's unit is written to the engine host
        Assert.Same(_a, _scheduler.Owner); // nobody asked yet: a keeps it
        Assert.True(_scheduler.AcquireAsync(_b, default).IsCompletedSuccessfully);
        Assert.Same(_b, _scheduler.Owner);
        _scheduler.EndHandOver(_a); // a's reply came back: nothing of b's is touched
        _scheduler.Release(_a);
        Assert.Same(_b, _scheduler.Owner);
        var c = _scheduler.AcquireAsync(_c, default).AsTask(); // b did not hand over: c waits its turn
        Assert.False(c.IsCompleted);
        _scheduler.Release(_b);
        await c.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_c, _scheduler.Owner);
    }

    [Fact]
    public async Task A_hand_over_goes_to_the_first_waiter_at_once()
    {
        await _scheduler.AcquireAsync(_a, default);
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        _scheduler.HandOver(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_b, _scheduler.Owner);
    }

    [Fact]
    public async Task An_owner_whose_reply_came_back_or_who_uses_the_engine_again_keeps_it()
    {
        await _scheduler.AcquireAsync(_a, default);
        _scheduler.HandOver(_a);
        _scheduler.EndHandOver(_a);
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        Assert.False(b.IsCompleted);
        _scheduler.Release(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));

        _scheduler.HandOver(_b);
        await _scheduler.AcquireAsync(_b, default); // b runs something more (a retry, a read-back)
        var c = _scheduler.AcquireAsync(_c, default).AsTask();
        Assert.False(c.IsCompleted);
        _scheduler.Release(_b);
        await c.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Who_comes_after_the_hand_over_window_waits_in_the_queue()
    {
        await _scheduler.AcquireAsync(_a, default);
        _scheduler.HandOver(_a);
        var handedOver = System.Diagnostics.Stopwatch.GetTimestamp();
        await Eventually.WaitUntilAsync( // a's unit is still running: not a short one
            () => System.Diagnostics.Stopwatch.GetElapsedTime(handedOver) > EngineScheduler.HandOverWindow * 2, "the hand-over window has passed");
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        Assert.False(b.IsCompleted);
        Assert.Equal(1, _scheduler.QueueLength);
        _scheduler.Release(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Behind_a_gate_a_hand_over_goes_only_to_a_waiter_already_queued()
    {
        var gate = new OnlyImports(_a) { Closed = false };
        _scheduler.Gate = gate;
        await _scheduler.AcquireAsync(_a, default);
        _scheduler.HandOver(_a);
        var b = _scheduler.AcquireAsync(_b, default).AsTask();
        Assert.False(b.IsCompleted);
        _scheduler.Release(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_session_that_held_the_engine_long_waits_behind_those_that_asked_for_little()
    {
        long now = 0;
        var scheduler = new EngineScheduler(() => now);
        object d = new();
        await scheduler.AcquireAsync(_a, default);
        var b = scheduler.AcquireAsync(_b, default).AsTask();
        var c = scheduler.AcquireAsync(_c, default).AsTask();
        now += System.Diagnostics.Stopwatch.Frequency * 2; // a holds the engine for two seconds (a COPY, an idle transaction)
        scheduler.Release(_a);
        await b.WaitAsync(TimeSpan.FromSeconds(5));
        var againA = scheduler.AcquireAsync(_a, default).AsTask(); // asks again at once, owing two seconds
        var newD = scheduler.AcquireAsync(d, default).AsTask();    // asks after it, owing nothing
        now += System.Diagnostics.Stopwatch.Frequency / 1000;
        scheduler.Release(_b);
        await c.WaitAsync(TimeSpan.FromSeconds(5));
        now += System.Diagnostics.Stopwatch.Frequency / 1000;
        scheduler.Release(_c);
        await newD.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(d, scheduler.Owner); // d overtook a
        Assert.False(againA.IsCompleted);
        scheduler.Release(d);
        await againA.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_a, scheduler.Owner);
    }

    [Fact]
    public async Task A_stream_of_new_connections_goes_ahead_of_a_client_that_owes_only_until_it_is_overdue()
    {
        long now = 0;
        var ms = System.Diagnostics.Stopwatch.Frequency / 1000;
        var scheduler = new EngineScheduler(() => now);
        object witness = new(), holder = new();
        await scheduler.AcquireAsync(witness, default);
        now += 100 * ms; // the witness's last transaction held the engine 100 ms
        scheduler.Release(witness);
        await scheduler.AcquireAsync(holder, default);
        var waited = scheduler.AcquireAsync(witness, default).AsTask();
        // Issue 59's fuzzer: new connections, each asking with no history and holding the engine 50 ms.
        var owner = holder;
        var turns = 0;
        while (!waited.IsCompleted)
        {
            Assert.True(turns < 40, "the witness was still waiting after 40 newcomers' turns (2 s)");
            object newcomer = new();
            var asked = scheduler.AcquireAsync(newcomer, default).AsTask();
            now += 50 * ms;
            scheduler.Release(owner);
            if (asked.IsCompleted)
            {
                owner = newcomer;
                turns++;
            }
            else
            {
                await waited.WaitAsync(TimeSpan.FromSeconds(5));
                scheduler.Release(witness); // the newcomer behind it comes next
                await asked.WaitAsync(TimeSpan.FromSeconds(5));
            }
        }
        Assert.True(turns > 0, "the newcomers that asked for little went first while the witness owed its 100 ms");
        Assert.InRange(turns * 50 + 50, (int)EngineScheduler.Overdue.TotalMilliseconds, (int)EngineScheduler.Overdue.TotalMilliseconds + 50);
    }

    [Fact]
    public async Task A_long_hold_is_paid_once_and_alike_sessions_keep_their_arrival_order()
    {
        long now = 0;
        var second = System.Diagnostics.Stopwatch.Frequency;
        var scheduler = new EngineScheduler(() => now);
        await scheduler.AcquireAsync(_a, default);
        now += 2 * second;
        scheduler.Release(_a);
        // Others use the engine for three seconds in all: the clock passes a's debt.
        for (var i = 0; i < 3; i++)
        {
            await scheduler.AcquireAsync(_b, default);
            now += second;
            scheduler.Release(_b);
        }
        await scheduler.AcquireAsync(_c, default);
        object d = new();
        var a = scheduler.AcquireAsync(_a, default).AsTask(); // a's debt is paid: it asks as the equal of a newcomer
        var newD = scheduler.AcquireAsync(d, default).AsTask();
        scheduler.Release(_c);
        await a.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(_a, scheduler.Owner);
        Assert.False(newD.IsCompleted);
        scheduler.Release(_a);
        await newD.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Seven_sessions_queued_behind_the_owner_that_each_give_the_engine_up_at_once_are_all_granted_on_the_releasing_thread()
    {
        // pgbench -c 8: seven sessions queued behind the owner, each handing the engine on as soon as it has it. A grant that went
        // through the thread pool would wake a worker per chain (select-only with eight clients spent ~10 % of the server's CPU
        // on woken workers spinning).
        await _scheduler.AcquireAsync(_a, default);
        var releasing = Environment.CurrentManagedThreadId;
        var grantedOn = new int[7];
        var granted = new List<Task>();
        for (var i = 0; i < grantedOn.Length; i++)
        {
            var session = new object();
            var index = i;
            granted.Add(_scheduler.AcquireAsync(session, default).AsTask().ContinueWith(_ =>
            {
                grantedOn[index] = Environment.CurrentManagedThreadId;
                _scheduler.Release(session);
            }, TaskContinuationOptions.ExecuteSynchronously));
        }
        _scheduler.Release(_a);
        await Task.WhenAll(granted).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.All(grantedOn, thread => Assert.Equal(releasing, thread));
        Assert.Null(_scheduler.Owner);
    }
}
