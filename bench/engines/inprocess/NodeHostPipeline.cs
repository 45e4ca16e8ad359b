using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using ZeroPg.Engine;

namespace ZeroPg.Bench.InProcess;

/// <summary>
/// The control for <see cref="EnginePipeline"/>: the same wire server, with the engine in ZeroPg's engine host (a Node process
/// of its own, engine-host/host.mjs) as ZeroPg talks to it: a connection's socket thread announces its batch on ZeroPg's doorbell
/// (<see cref="EngineDoorbell"/>, the shared memory the host polls) and writes it as a frame to the host's stdin; a reader thread reads the reply frames from the host's
/// stdout (blocking reads: ZeroPg's server polls for 0.5 ms first) and sends each reply to its client. The frames are ZeroPg's
/// (src/ZeroPg/Engine/HostFrame.cs).
/// </summary>
internal sealed class NodeHostPipeline : IBatchSink
{
    private readonly Stream _requests, _replies;
    private readonly EngineDoorbell _doorbell;
    private readonly ConcurrentQueue<IReplyTarget> _waiting = new();
    private readonly Lock _writeLock = new();

    private NodeHostPipeline(Process host, EngineDoorbell doorbell)
    {
        _requests = host.StandardInput.BaseStream;
        _replies = host.StandardOutput.BaseStream;
        _doorbell = doorbell;
    }

    public static NodeHostPipeline Start(string node, string hostScript)
    {
        var doorbell = EngineDoorbell.Create();
        var options = $"{{\"dataDir\":\"memory://\",\"pollMicroseconds\":1000,\"doorbell\":\"{doorbell.Path}\"}}";
        var start = new ProcessStartInfo(node) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(hostScript);
        start.ArgumentList.Add(options);
        var host = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var pipeline = new NodeHostPipeline(host, doorbell);
        var (kind, payload) = pipeline.ReadFrame();
        if (kind != HostReplyKind.Ready)
            throw new InvalidOperationException($"the engine host answered '{kind}': {System.Text.Encoding.UTF8.GetString(payload)}");
        doorbell.Unlink(); // the host has it open
        new Thread(pipeline.ReadReplies) { IsBackground = true, Name = "reader" }.Start();
        return pipeline;
    }

    public void Post(byte[] batch, IReplyTarget to)
    {
        var frame = new byte[HostFrame.HeaderLength + batch.Length];
        HostFrame.WriteHeader(frame, HostRequestKind.Batch, batch.Length);
        batch.CopyTo(frame, HostFrame.HeaderLength);
        lock (_writeLock)
        {
            _waiting.Enqueue(to);
            _doorbell.Announce(frame.Length); // before the write, as ZeroPg's server: the host never waits on half a frame
            _requests.Write(frame);
            _requests.Flush();
        }
    }

    private void ReadReplies()
    {
        var reply = new MemoryStream();
        while (true)
        {
            var (kind, payload) = ReadFrame();
            if (kind == HostReplyKind.ReplyData)
            {
                reply.Write(payload);
                continue;
            }
            if (kind != HostReplyKind.ReplyEnd)
                throw new InvalidOperationException($"unexpected frame '{kind}'");
            _waiting.TryDequeue(out var to);
            to!.Send(reply.GetBuffer().AsSpan(0, (int)reply.Length));
            reply.SetLength(0);
        }
    }

    private readonly byte[] _header = new byte[HostFrame.HeaderLength];

    private (HostReplyKind Kind, byte[] Payload) ReadFrame()
    {
        _replies.ReadExactly(_header);
        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1))];
        _replies.ReadExactly(payload);
        return ((HostReplyKind)_header[0], payload);
    }
}
