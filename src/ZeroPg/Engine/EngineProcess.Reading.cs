using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Engine;

/// <summary>The reading side: frames from the host's stdout, routed to the calls in the order they were sent.</summary>
internal sealed partial class EngineProcess
{
    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _stdout.ReadAsync();
                var buffer = result.Buffer;
                while (TryReadFrame(ref buffer, out var kind, out var payload))
                    await HandleFrameAsync(kind, payload);
                _stdout.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception error)
        {
            _fatalMessage ??= error.Message;
        }
        _failed = true;
        await Task.Run(() => _process.WaitForExit(2000));
        var failure = new EngineFailedException(Diagnostics()) { KilledToCancel = _killedToCancel };
        _ready.TrySetException(failure);
        while (_calls.TryDequeue(out var call))
            call.Fail(failure);
        _exited.TrySetResult();
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte kind, out ReadOnlySequence<byte> payload)
    {
        kind = 0;
        payload = default;
        if (buffer.Length < HostFrame.HeaderLength)
            return false;
        Span<byte> header = stackalloc byte[HostFrame.HeaderLength];
        buffer.Slice(0, HostFrame.HeaderLength).CopyTo(header);
        var length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        if (buffer.Length < HostFrame.HeaderLength + length)
            return false;
        kind = header[0];
        payload = buffer.Slice(HostFrame.HeaderLength, length);
        buffer = buffer.Slice(HostFrame.HeaderLength + length);
        return true;
    }

    private async ValueTask HandleFrameAsync(byte kind, ReadOnlySequence<byte> payload)
    {
        switch (kind)
        {
            case HostFrame.ReplyData:
                if (_calls.TryPeek(out var current))
                    await current.OnReplyDataAsync(payload);
                break;
            case HostFrame.ReplyEnd:
            case HostFrame.ControlReply:
                if (_calls.TryDequeue(out var finished))
                {
                    await finished.OnReplyEndAsync(payload);
                    finished.Complete();
                }
                break;
            case HostFrame.Ready:
                _ready.TrySetResult(EngineStartupInfo.Parse(payload.ToArray()));
                break;
            case HostFrame.Fatal:
                _fatalMessage = Encoding.UTF8.GetString(payload);
                Log.EngineFatal(_logger, _fatalMessage);
                break;
            default:
                throw new InvalidDataException($"unknown frame kind {kind} from the engine host");
        }
    }
}
