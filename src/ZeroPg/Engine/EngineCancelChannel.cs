using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine;

/// <summary>Frame kinds of the cancel channel; the host's copy is engine-host/frames.mjs (CancelFrame).</summary>
internal enum CancelFrameKind : byte
{
    /// <summary>[reason u8][batch sequence u64 BE]: cancel that batch (running now, or when it starts if queued).</summary>
    Cancel = (byte)'C',
    /// <summary>[status u8][batch sequence u64 BE]: what the host did (<see cref="EngineCancelStatus"/>).</summary>
    Answer = (byte)'A',
}

/// <summary>Why a batch is cancelled: the error Postgres raises for it (engine-host/interrupts.mjs CancelReason).</summary>
internal enum EngineCancelReason : byte
{
    User = 1,
    StatementTimeout = 2,
    LockTimeout = 3,
}

/// <summary>The host's answer to a cancel (engine-host/interrupts.mjs CancelStatus).</summary>
internal enum EngineCancelStatus : byte
{
    Running = 1,
    Queued = 2,
    Finished = 3,
    Unavailable = 4,
    /// <summary>Sent unasked: the host raised the statement timeout for the batch running (the server bounds how long it may still run).</summary>
    StatementTimeoutRaised = 5,
    /// <summary>Sent unasked: the host raised the lock timeout for the batch running.</summary>
    LockTimeoutRaised = 6,
}

/// <summary>
/// The server's end of the engine host's cancel channel: a Unix socket or a loopback port (<see cref="Platform.CancelEndpoint"/>) served by a thread of the host that
/// never runs the engine (engine-host/cancel-listener.mjs: the shared host's main thread, or a worker of a host
/// process), which raises Postgres's interrupt flags in the engine's memory while the engine is inside a query. A cancel names the batch by its sequence number
/// (1, 2, ... in the order Batch frames were written, counted on both sides), so it can never hit
/// another client's later batch. Writes come from any thread under one lock; one reader task drains
/// the answers (logged) and reports the timeouts the host raised by itself (<c>onTimeoutRaised</c>).
/// </summary>
internal sealed partial class EngineCancelChannel : IAsyncDisposable
{
    private const int FrameLength = 5 + 9;
    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly Lock _writeLock = new();
    private readonly Task _reading;
    private readonly Action<long, EngineCancelReason> _onTimeoutRaised;

    private EngineCancelChannel(Socket socket, ILogger logger, Action<long, EngineCancelReason> onTimeoutRaised)
    {
        _socket = socket;
        _logger = logger;
        _onTimeoutRaised = onTimeoutRaised;
        _reading = Task.Run(ReadAnswersAsync);
    }

    /// <summary>Where a new host's listener listens: a short, unique Unix socket path, or a loopback port (this platform's choice).</summary>
    public static Platform.CancelEndpoint NewEndpoint()
        => Platform.HostPlatform.Current.NewCancelEndpoint(Path.GetTempPath(), Hosting.KilledProcessLeftovers.Name(Hosting.KilledProcessLeftovers.CancelSocket));

    /// <summary>Connects to the host's listener at <paramref name="endpoint"/> (<paramref name="port"/>: the loopback port its ready frame named).</summary>
    public static async Task<EngineCancelChannel> ConnectAsync(Platform.CancelEndpoint endpoint, int? port, ILogger logger,
        Action<long, EngineCancelReason> onTimeoutRaised, CancellationToken cancellationToken)
        => new(await endpoint.ConnectAsync(port, cancellationToken), logger, onTimeoutRaised);

    /// <summary>Asks the host to cancel batch <paramref name="sequence"/>; false when the channel is gone (the engine is).</summary>
    public bool Cancel(long sequence, EngineCancelReason reason)
    {
        Span<byte> frame = stackalloc byte[FrameLength];
        frame[0] = (byte)CancelFrameKind.Cancel; // the stdio protocol's header: [kind][payload length u32 BE]
        BinaryPrimitives.WriteUInt32BigEndian(frame[1..], 9);
        frame[5] = (byte)reason;
        BinaryPrimitives.WriteInt64BigEndian(frame[6..], sequence);
        try
        {
            lock (_writeLock)
                _socket.Send(frame);
            Log.Sent(_logger, sequence, reason);
            return true;
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
            Log.SendFailed(_logger, sequence, error.Message);
            return false;
        }
    }

    private async Task ReadAnswersAsync()
    {
        var buffer = new byte[FrameLength * 16];
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None);
                if (read == 0)
                    return;
                filled += read;
                var start = 0;
                for (; filled - start >= FrameLength; start += FrameLength)
                {
                    var answer = buffer.AsSpan(start, FrameLength);
                    if (answer[0] != (byte)CancelFrameKind.Answer)
                        return;
                    var sequence = BinaryPrimitives.ReadInt64BigEndian(answer[6..]);
                    var status = (EngineCancelStatus)answer[5];
                    Log.Answered(_logger, sequence, status);
                    if (status is EngineCancelStatus.StatementTimeoutRaised or EngineCancelStatus.LockTimeoutRaised)
                        _onTimeoutRaised(sequence, status == EngineCancelStatus.LockTimeoutRaised ? EngineCancelReason.LockTimeout : EngineCancelReason.StatementTimeout);
                }
                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                filled -= start;
            }
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
            // The engine host went away: its process's exit is handled elsewhere.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _reading;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "cancel sent for engine batch {Sequence} ({Reason})")]
        public static partial void Sent(ILogger logger, long sequence, EngineCancelReason reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "cancel of engine batch {Sequence}: {Status}")]
        public static partial void Answered(ILogger logger, long sequence, EngineCancelStatus status);

        [LoggerMessage(Level = LogLevel.Warning, Message = "cancel of engine batch {Sequence} not sent: {Message}")]
        public static partial void SendFailed(ILogger logger, long sequence, string message);
    }
}
