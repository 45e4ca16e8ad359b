using System.Net.Sockets;
using System.Text;

namespace ZeroPg.Fuzz;

/// <summary>Sends one case on a connection of its own and reads until the end marker is answered, the server closes, or it goes quiet.</summary>
public static class CaseRunner
{
    private static readonly byte[] Marker = Encoding.ASCII.GetBytes(FuzzCase.EndMarker);
    private static readonly byte[] ReadyForQuery = [(byte)'Z', 0, 0, 0, 5];

    public enum Outcome { Answered, ClosedByServer, Quiet, Refused }

    /// <param name="quiet">How long the server may stay silent before the case is given up: a lying length leaves it waiting for bytes.</param>
    public static async Task<Outcome> RunAsync(FuzzCase fuzzCase, string host, int port, TimeSpan quiet, CancellationToken cancel)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, cancel);
        }
        catch (SocketException)
        {
            return Outcome.Refused;
        }
        // Closed with RST: no TIME_WAIT, so a long run does not run out of local ports; and a killed client looks like this.
        socket.LingerState = new LingerOption(true, 0);
        try
        {
            // A server that stops reading (it waits on its engine) must not hold the case past its quiet bound.
            using (var sending = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                sending.CancelAfter(quiet * 4);
                try
                {
                    await socket.SendAsync(fuzzCase.Payload(), SocketFlags.None, sending.Token);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    return Outcome.Quiet;
                }
            }
            switch (fuzzCase.Act)
            {
                case HostileAct.DropMidBatch:
                    await Task.Delay(fuzzCase.ActAfterMs, cancel);
                    return Outcome.Quiet; // dropped with RST (the linger above) without reading a byte
                case HostileAct.ReadNothingThenCancel:
                    await Task.Delay(fuzzCase.ActAfterMs, cancel);
                    if (await PeekBackendKeyAsync(socket) is { } unread)
                        await SendCancelAsync(host, port, unread, cancel);
                    await Task.Delay(1000, cancel);
                    return Outcome.Quiet;
            }
            if (fuzzCase.IsCut)
                return Outcome.Quiet;
            return await ReadUntilMarkerAsync(socket, quiet, cancel,
                fuzzCase.Act == HostileAct.CancelWhileRunning ? key => CancelLaterAsync(host, port, key, fuzzCase.ActAfterMs, cancel) : null);
        }
        catch (SocketException)
        {
            return Outcome.ClosedByServer;
        }
    }

    /// <summary>The BackendKeyData of a startup: 'K', length 12, process id and secret key.</summary>
    private static readonly byte[] BackendKeyHeader = [(byte)'K', 0, 0, 0, 12];

    /// <summary>Reads what the server sent so far without waiting, for the BackendKeyData's 8 bytes (null when not there).</summary>
    private static async Task<byte[]?> PeekBackendKeyAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var brief = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        try
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, brief.Token);
            return KeyIn(buffer.AsSpan(0, read));
        }
        catch (Exception error) when (error is OperationCanceledException or SocketException)
        {
            return null;
        }
    }

    private static byte[]? KeyIn(ReadOnlySpan<byte> bytes)
    {
        var at = bytes.IndexOf(BackendKeyHeader);
        return at >= 0 && at + 13 <= bytes.Length ? bytes.Slice(at + 5, 8).ToArray() : null;
    }

    private static async Task CancelLaterAsync(string host, int port, byte[] key, int afterMs, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(afterMs, cancel);
            await SendCancelAsync(host, port, key, cancel);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>A CancelRequest with the session's own key, on a connection of its own.</summary>
    private static async Task SendCancelAsync(string host, int port, byte[] key, CancellationToken cancel)
    {
        using var canceller = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await canceller.ConnectAsync(host, port, cancel);
            await canceller.SendAsync(new Wire().Raw(key).Untyped(Wire.CancelRequestCode), SocketFlags.None, cancel);
        }
        catch (SocketException)
        {
        }
    }

    private static async Task<Outcome> ReadUntilMarkerAsync(Socket socket, TimeSpan quiet, CancellationToken cancel, Func<byte[], Task>? onKey = null)
    {
        var buffer = new byte[64 * 1024];
        Task? acting = null;
        var seen = new List<byte>(); // only the tail that could still hold the marker and the ReadyForQuery after it
        var sawMarker = false;
        while (true)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(quiet);
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                return Outcome.Quiet;
            }
            if (read == 0)
                return Outcome.ClosedByServer;
            if (onKey is not null && acting is null && KeyIn(buffer.AsSpan(0, read)) is { } key)
                acting = onKey(key); // not awaited: the cancel goes out while this goes on reading
            seen.AddRange(buffer.AsSpan(0, read));
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seen);
            if (!sawMarker)
            {
                var at = span.IndexOf(Marker);
                if (at >= 0)
                {
                    sawMarker = true;
                    seen.RemoveRange(0, at + Marker.Length);
                    span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seen);
                }
            }
            if (sawMarker && span.IndexOf(ReadyForQuery) >= 0)
                return Outcome.Answered;
            if (seen.Count > 4096)
                seen.RemoveRange(0, seen.Count - 64);
        }
    }
}
