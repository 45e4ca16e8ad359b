using System.Globalization;
using Npgsql;

namespace ZeroPg.Soak;

/// <summary>
/// Two clients, each LISTENing on its own channel, pass a counter back and forth with NOTIFY: every message must arrive
/// once, with the payload expected. A NOTIFY whose sender was acknowledged and whose listener's connection stays open must
/// arrive within 10 s, unless a fault fell in that time (then the pair goes on with the same connections when both are still
/// open, else reconnects and LISTENs again). One that does not is lost: counted, and the pair reconnects (a listener that
/// went deaf in an engine restart is counted once per restart).
/// </summary>
public sealed class NotifyPingPong(SoakContext context)
{
    private static readonly TimeSpan s_deliveryBound = TimeSpan.FromSeconds(10);
    private readonly Outcomes _outcomes = new();
    private long _delivered, _lost, _duplicated, _unexpected, _excused, _late, _sessions;

    public long Lost => Interlocked.Read(ref _lost);

    public long Duplicated => Interlocked.Read(ref _duplicated) + Interlocked.Read(ref _unexpected);

    public async Task RunAsync(CancellationToken stop)
    {
        long counter = 0;
        while (!stop.IsCancellationRequested)
        {
            var from = context.Timeline.Now;
            try
            {
                await using var ping = await ListenerAsync("soak_ping", stop);
                await using var pong = await ListenerAsync("soak_pong", stop);
                Interlocked.Increment(ref _sessions);
                while (!stop.IsCancellationRequested)
                {
                    foreach (var (sender, receiver, channel) in new[] { (ping, pong, "soak_pong"), (pong, ping, "soak_ping") })
                    {
                        var payload = (++counter).ToString(CultureInfo.InvariantCulture);
                        from = context.Timeline.Now;
                        await SoakContext.ExecuteAsync(sender.Connection, $"NOTIFY {channel}, '{payload}'", stop);
                        var sentAt = context.Timeline.Now;
                        var arrived = await WaitForAsync(receiver, payload, stop);
                        if (arrived)
                        {
                            Interlocked.Increment(ref _delivered);
                            _outcomes.Success();
                            continue;
                        }
                        if (context.Timeline.Overlaps(from, context.Timeline.Now))
                        {
                            Interlocked.Increment(ref _excused);
                            // Both still connected (sessions kept through an engine restart): go on with them, so a listener
                            // that went deaf in the restart shows as lost NOTIFYs after it.
                            if (ping.Connection.FullState == System.Data.ConnectionState.Open && pong.Connection.FullState == System.Data.ConnectionState.Open)
                                continue;
                        }
                        else
                        {
                            Interlocked.Increment(ref _lost);
                            context.Progress($"notify: {channel} '{payload}' sent at {sentAt:hh\\:mm\\:ss} not delivered in {s_deliveryBound.TotalSeconds} s to a listener still connected");
                        }
                        throw new ReconnectException();
                    }
                    await Task.Delay(50, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ReconnectException)
            {
            }
            catch (Exception error)
            {
                _outcomes.Error(context.Timeline, from, error);
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    private async Task<bool> WaitForAsync(Listener receiver, string payload, CancellationToken stop)
    {
        var deadline = context.Timeline.Now + s_deliveryBound;
        while (context.Timeline.Now < deadline)
        {
            lock (receiver.Received)
            {
                if (receiver.Received.Count > 0)
                {
                    var got = receiver.Received[0];
                    receiver.Received.RemoveAt(0);
                    if (got == payload)
                    {
                        if (receiver.Received.Count > 0)
                        {
                            Interlocked.Add(ref _duplicated, receiver.Received.Count);
                            context.Progress($"notify: after '{payload}' also {string.Join(",", receiver.Received)}");
                            receiver.Received.Clear();
                        }
                        return true;
                    }
                    if (long.Parse(got, CultureInfo.InvariantCulture) < long.Parse(payload, CultureInfo.InvariantCulture))
                    {
                        Interlocked.Increment(ref _late); // one given up on across a fault, arriving after all
                        continue;
                    }
                    Interlocked.Increment(ref _unexpected);
                    context.Progress($"notify: got '{got}' while waiting for '{payload}'");
                    continue;
                }
            }
            // Reads what the server sent, up to the time left (a dead connection throws: the caller reconnects).
            var left = deadline - context.Timeline.Now;
            if (left <= TimeSpan.Zero)
                break;
            await receiver.Connection.WaitAsync(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), stop);
        }
        return false;
    }

    private async Task<Listener> ListenerAsync(string channel, CancellationToken stop)
    {
        var connection = await context.OpenAsync(stop);
        var listener = new Listener(connection);
        connection.Notification += (_, e) =>
        {
            if (e.Channel == channel)
            {
                lock (listener.Received)
                    listener.Received.Add(e.Payload);
            }
        };
        await SoakContext.ExecuteAsync(connection, $"LISTEN {channel}", stop);
        return listener;
    }

    public Dictionary<string, object> Report()
    {
        var report = _outcomes.Report();
        report["sessions"] = Interlocked.Read(ref _sessions);
        report["delivered"] = Interlocked.Read(ref _delivered);
        report["lost"] = Lost;
        report["duplicatedOrUnexpected"] = Duplicated;
        report["notDeliveredAcrossAFault"] = Interlocked.Read(ref _excused);
        report["deliveredLateAfterAFault"] = Interlocked.Read(ref _late);
        return report;
    }

    private sealed class Listener(NpgsqlConnection connection) : IAsyncDisposable
    {
        public NpgsqlConnection Connection => connection;

        public List<string> Received { get; } = [];

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }

    private sealed class ReconnectException : Exception;
}
