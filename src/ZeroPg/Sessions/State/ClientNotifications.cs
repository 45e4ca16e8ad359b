using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// LISTEN/NOTIFY for one client. Notifications are taken out of every engine reply (whoever's) and
/// delivered to each listening client with the notifying client's process id: an idle client at once, a
/// busy one right after its current reply. The output gate is what makes "busy" exact: the session holds
/// it while it handles input and runs units, and a notification is written only by whoever holds it.
/// Thread: <see cref="Dispatch"/> on the engine reader thread, <see cref="Deliver"/> from any thread, the rest on the session.
/// </summary>
internal sealed class ClientNotifications(PipeWriter output, NotificationHub hub, Func<int> processId) : ISessionState
{
    private readonly ConcurrentQueue<byte[]> _queue = new();
    private readonly SemaphoreSlim _outputGate = new(1, 1);

    public bool HasQueued => !_queue.IsEmpty;

    public string[] Channels => hub.ChannelsOf(this);

    /// <summary>The session takes the output for a while (handling input, running units).</summary>
    /// <summary>Takes the client's output from the notification pump. A free gate is taken even when the connection has closed:
    /// input the client sent before it left (statements, then its Terminate) is still processed.</summary>
    public Task EnterAsync(CancellationToken cancellationToken) => _outputGate.Wait(0) ? Task.CompletedTask : _outputGate.WaitAsync(cancellationToken);

    public void Exit() => _outputGate.Release();

    /// <summary>Reader thread: a NotificationResponse in this session's engine reply goes to every client listening on its channel.</summary>
    public void Dispatch(ReadOnlySpan<byte> message, bool writeInline)
    {
        var (_, channel, payload) = NotificationResponse.Read(message[5..]);
        foreach (var listener in hub.Listeners(channel))
        {
            var notification = new ArrayBufferWriter<byte>(message.Length + 8);
            NotificationResponse.Write(notification, processId(), channel, payload);
            if (listener == this && writeInline)
                output.Write(notification.WrittenSpan); // inside this client's own reply
            else
                listener.Deliver(notification.WrittenSpan.ToArray());
        }
    }

    /// <summary>Queues a notification and writes it if the session is not in the middle of something.</summary>
    public void Deliver(byte[] notification)
    {
        _queue.Enqueue(notification);
        _ = PumpAsync();
    }

    /// <summary>Writes queued notifications unless the session holds the output (it drains them before it next waits for input).</summary>
    public async Task PumpAsync()
    {
        if (!_outputGate.Wait(0))
            return;
        try
        {
            if (Drain())
                await output.FlushAsync();
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error))
        {
            // The client is gone; its cleanup follows.
        }
        finally
        {
            _outputGate.Release();
        }
    }

    /// <summary>Writes what is queued (the caller holds the output gate); true if anything was written.</summary>
    public bool Drain()
    {
        var any = false;
        while (_queue.TryDequeue(out var notification))
        {
            output.Write(notification);
            any = true;
        }
        return any;
    }

    /// <summary>A unit's LISTEN / UNLISTEN for this client.</summary>
    public void Apply(UnitEffects effects)
    {
        if (effects.UnlistenAll)
            hub.UnlistenAll(this);
        foreach (var channel in effects.Unlisten)
            hub.Unlisten(this, channel);
        foreach (var channel in effects.Listen)
            hub.Listen(this, channel);
    }

    public void UnlistenAll() => hub.UnlistenAll(this);

    /// <summary>A unit's LISTEN / UNLISTEN (and a DISCARD ALL answered for this client) apply to its channels; a DISCARD ALL that ran in the engine unlistened everyone's there.</summary>
    ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        if (unit.Effects.DiscardAllAnswered)
            UnlistenAll();
        Apply(unit.Effects);
        if (unit.Effects.UnlistensEngine)
            readBack.Run(hub.ListenSql());
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A new engine session (after a restart) listens on nothing: the first batch any client sends there LISTENs on every channel
    /// a client listens on, before its own statements (a NOTIFY among them) run. Every NOTIFY comes from a client's batch, so no
    /// notification is sent in the new engine before its listeners are registered.
    /// </summary>
    void ISessionState.WritePreamble(Preamble preamble)
    {
        var engine = preamble.Engine;
        if (engine.ListensRestored)
            return;
        var listens = hub.ListenSql().ToList();
        if (listens.Count == 0)
            engine.ListensRestored = true; // nobody listens: a LISTEN from now on runs in this engine itself
        else
            preamble.Add(listens, () => engine.ListensRestored = true);
    }

    /// <summary>Its channels stay in the hub and are listened on again in the new engine (<see cref="ISessionState.WritePreamble"/>).</summary>
    RestartOutcome ISessionState.Restarted()
    {
        var channels = Channels;
        return channels.Length == 0 ? RestartOutcome.NothingHeld
            : RestartOutcome.Restored($"LISTEN {string.Join(", ", channels)}: listened on again in the new engine before any client's statement runs there");
    }

    /// <summary>Its channels go at once; the engine keeps listening while any client listens (the hub's).</summary>
    bool ISessionState.LeftBehind()
    {
        UnlistenAll();
        return false;
    }
}
