using System.Buffers;
using System.Text;
using ZeroPg.Protocol;

namespace ZeroPg.Engine;

/// <summary>The reading side: frames from the host's stdout, routed to the calls in the order they were sent.</summary>
internal sealed partial class EngineProcess
{
    private void ReadLoop()
    {
        var buffer = new byte[256 * 1024];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                var frames = new MessageReader(buffer.AsSpan(start, end - start), LengthWord.PayloadOnly);
                while (frames.TryRead(out var frame))
                {
                    var payload = new ReadOnlySequence<byte>(buffer, start + frame.Offset + HostFrame.HeaderLength, frame.Length - HostFrame.HeaderLength);
                    var handled = HandleFrameAsync((HostReplyKind)frame.Code, payload);
                    if (!handled.IsCompletedSuccessfully)
                        handled.AsTask().GetAwaiter().GetResult(); // back-pressure from a slow client
                }
                start += frames.Consumed;
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end >= HostFrame.HeaderLength)
                {
                    var needed = MessageFramer.WholeLength(buffer, LengthWord.PayloadOnly);
                    if (needed > buffer.Length)
                        Array.Resize(ref buffer, checked((int)needed));
                }
                var read = _replies.Read(buffer, end, buffer.Length - end, expectingData: !_calls.IsEmpty);
                if (read == 0)
                    break;
                end += read;
            }
        }
        catch (Exception error)
        {
            _fatalMessage ??= error.Message;
        }
        _failed = true;
        _process.WaitForExit(2000);
        var failure = new EngineFailedException(Diagnostics()) { KilledToCancel = _killedToCancel };
        _ready.TrySetException(failure);
        while (_calls.TryDequeue(out var call))
            call.Fail(failure);
        _exited.TrySetResult();
    }

    private async ValueTask HandleFrameAsync(HostReplyKind kind, ReadOnlySequence<byte> payload)
    {
        switch (kind)
        {
            case HostReplyKind.ReplyData:
                if (_calls.TryPeek(out var current))
                    await current.OnReplyDataAsync(payload);
                break;
            case HostReplyKind.ReplyEnd:
            case HostReplyKind.ControlReply:
                if (_calls.TryDequeue(out var finished))
                {
                    await finished.OnReplyEndAsync(payload);
                    finished.Complete();
                }
                break;
            case HostReplyKind.Ready:
                _ready.TrySetResult(EngineStartupInfo.Parse(payload.ToArray()));
                break;
            case HostReplyKind.Fatal:
                _fatalMessage = Encoding.UTF8.GetString(payload);
                Log.EngineFatal(_logger, _fatalMessage);
                break;
            default:
                throw new InvalidDataException($"unknown frame kind {(byte)kind} from the engine host");
        }
    }
}
