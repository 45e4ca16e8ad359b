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
            if (fuzzCase.IsCut)
                return Outcome.Quiet;
            return await ReadUntilMarkerAsync(socket, quiet, cancel);
        }
        catch (SocketException)
        {
            return Outcome.ClosedByServer;
        }
    }

    private static async Task<Outcome> ReadUntilMarkerAsync(Socket socket, TimeSpan quiet, CancellationToken cancel)
    {
        var buffer = new byte[64 * 1024];
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
