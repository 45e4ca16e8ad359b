using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// Postgres 17+'s transaction_timeout, kept per client. The engine never raises it (engine-host/cancel-listener.mjs: its
/// FATAL would end the session every client shares), so ZeroPg arms it as Postgres 18 does (xact.c StartTransaction,
/// assign_transaction_timeout): when a unit starts outside a transaction block (the implicit transaction of a single
/// statement, or the one BEGIN opens), or when the client is found in a transaction without it armed. It is disarmed
/// when the client is back outside a transaction block. When it fires: the client's running statement is cancelled
/// inside the engine (so the engine goes on for the others), a wait for the engine or an advisory lock stops, an idle
/// read ends; the session then ends the connection with FATAL 25P04 (<see cref="ThrowIfFired"/>), its transaction
/// rolled back by <see cref="SessionCleanup"/>. Thread: the session arms and disarms; the timer's thread only sets
/// <see cref="Fired"/> and calls <paramref name="onFire"/>.
/// </summary>
internal sealed class TransactionTimeout(SessionSettings settings, Action onFire) : IDisposable
{
    private readonly Lock _gate = new();
    private Timer? _timer;
    private int _armings; // which arming a timer callback belongs to: a disarmed timer's late callback is ignored
    private TimeSpan _armedFor;
    private volatile bool _fired;

    /// <summary>The limit ran out: from now on nothing more of the client's reply is sent; the session ends with FATAL.</summary>
    public bool Fired => _fired;

    public static PgError Error(TimeSpan limit) => PgError.Fatal(SqlState.TransactionTimeout, "terminating connection due to transaction timeout",
        $"The client's transaction_timeout ({(limit.TotalSeconds >= 1 ? $"{limit.TotalSeconds:0.###} s" : $"{limit.TotalMilliseconds:0} ms")}) passed; its running statement was cancelled and its transaction rolled back.");

    /// <summary>A unit of the client's messages starts while its transaction status is <paramref name="before"/>.</summary>
    public void UnitStarting(TransactionStatus before)
    {
        if (before == TransactionStatus.Idle)
            Disarm(); // a new transaction: the previous one's timer never carries over
        ArmIfSet();
    }

    /// <summary>After the client's input was handled: disarmed outside a transaction block, armed (if set and not yet) inside one.</summary>
    public void Settle(TransactionStatus status, bool inCopy)
    {
        if (status == TransactionStatus.Idle && !inCopy)
            Disarm();
        else if (Limit() is { } limit && limit > TimeSpan.Zero)
            ArmIfSet();
        else
            Disarm(); // set to 0 inside the transaction: Postgres disables the timer too
    }

    /// <summary>Ends the session with FATAL 25P04 if the limit ran out.</summary>
    public void ThrowIfFired()
    {
        if (_fired)
            throw new PgErrorException(Error(_armedFor));
    }

    private void ArmIfSet()
    {
        if (Limit() is not { } limit || limit <= TimeSpan.Zero)
            return;
        lock (_gate)
        {
            if (_timer is not null || _fired)
                return;
            _armedFor = limit;
            var arming = ++_armings;
            _timer = new Timer(_ => Fire(arming), null, limit, Timeout.InfiniteTimeSpan);
        }
    }

    private void Disarm()
    {
        lock (_gate)
        {
            if (_fired)
                return; // too late: the session ends
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void Fire(int arming)
    {
        lock (_gate)
        {
            if (_timer is null || arming != _armings)
                return; // disarmed meanwhile
            _fired = true;
        }
        onFire();
    }

    private TimeSpan? Limit()
        => settings.Values.TryGetValue("transaction_timeout", out var value) && SessionTimeouts.TryParseMilliseconds(value, out var ms)
            ? TimeSpan.FromMilliseconds(ms) : null;

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }
}
