using System.Buffers;
using System.Collections.Concurrent;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// LISTEN/NOTIFY per client. Notifications are taken out of every engine reply and delivered to each
/// listening client with the notifying client's process id: an idle client at once, a busy one right
/// after its current reply (the output gate is held while a unit runs).
/// </summary>
internal sealed partial class ClientSession
{
    private readonly ConcurrentQueue<byte[]> _notifications = new();
    private readonly SemaphoreSlim _outputGate = new(1, 1);

    /// <summary>Called by the reply forwarder for each NotificationResponse in this session's engine reply.</summary>
    internal void DispatchNotification(ReadOnlySpan<byte> message, bool writeInline)
    {
        var (_, channel, payload) = NotificationResponse.Read(message[5..]);
        foreach (var listener in _services.Notifications.Listeners(channel))
        {
            var output = new System.Buffers.ArrayBufferWriter<byte>(message.Length + 8);
            NotificationResponse.Write(output, ProcessId, channel, payload);
            if (listener == this && writeInline)
                _output.Write(output.WrittenSpan);
            else
                listener.Deliver(output.WrittenSpan.ToArray());
        }
    }

    private void Deliver(byte[] notification)
    {
        _notifications.Enqueue(notification);
        _ = PumpNotificationsAsync();
    }

    /// <summary>Writes queued notifications if the session is not in the middle of something.</summary>
    private async Task PumpNotificationsAsync()
    {
        if (!_outputGate.Wait(0))
            return; // busy: the session drains the queue before it next waits for input
        try
        {
            if (DrainNotifications())
                await _output.FlushAsync();
        }
        catch (Exception error) when (IsDisconnect(error))
        {
            // The client is gone; its cleanup follows.
        }
        finally
        {
            _outputGate.Release();
        }
    }

    /// <summary>Writes what is queued (caller holds the output gate); true if anything was written.</summary>
    private bool DrainNotifications()
    {
        var any = false;
        while (_notifications.TryDequeue(out var notification))
        {
            _output.Write(notification);
            any = true;
        }
        return any;
    }

    /// <summary>Applies a unit's LISTEN / UNLISTEN to this client's subscriptions.</summary>
    private void ApplyListenEffects(UnitEffects effects)
    {
        var hub = _services.Notifications;
        if (effects.UnlistenAll)
            hub.UnlistenAll(this);
        foreach (var channel in effects.Unlisten)
            hub.Unlisten(this, channel);
        foreach (var channel in effects.Listen)
            hub.Listen(this, channel);
    }
}
