using System.Buffers;
using BenchmarkDotNet.Attributes;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Benchmarks;

/// <summary>The per-message work on the hot path: framing client messages, cutting engine replies, rewriting SQL.</summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private ReadOnlySequence<byte> _extendedBatch;
    private byte[] _reply = [];
    private readonly StreamFramer _framer = new();
    private int _messages;

    [GlobalSetup]
    public void Setup()
    {
        // A pgbench -M prepared statement: Bind, Execute, Sync.
        var batch = new ArrayBufferWriter<byte>();
        BindMessage.Write(batch, ""u8, "zp_3"u8, new byte[] { 0, 0, 0, 2, 0, 0, 0, 5, (byte)'1', (byte)'2', (byte)'3', (byte)'4', (byte)'5', 0, 0, 0, 2, (byte)'4', (byte)'2', 0, 0 });
        ExecuteMessage.Write(batch, ""u8, 0);
        EmptyFrontendMessage.Write(batch, FrontendCode.Sync);
        _extendedBatch = new ReadOnlySequence<byte>(batch.WrittenMemory);

        // A reply of 100 data rows, as the engine sends it.
        var reply = new ArrayBufferWriter<byte>();
        EmptyMessage.Write(reply, BackendCode.BindComplete);
        for (var i = 0; i < 100; i++)
        {
            var row = new MessageWriter(reply, BackendCode.DataRow, 32);
            row.WriteInt16(2);
            row.WriteInt32(5);
            row.WriteBytes("12345"u8);
            row.WriteInt32(8);
            row.WriteBytes("abcdefgh"u8);
            row.Complete();
        }
        CommandComplete.Write(reply, "SELECT 100");
        ReadyForQuery.Write(reply, TransactionStatus.Idle);
        _reply = reply.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int FrameClientBatch()
    {
        var buffer = _extendedBatch;
        var count = 0;
        while (FrontendFramer.TryReadMessage(ref buffer, int.MaxValue, out _, out _))
            count++;
        return count;
    }

    [Benchmark]
    public int CutEngineReplyIn8KChunks()
    {
        _messages = 0;
        _framer.Reset();
        for (var offset = 0; offset < _reply.Length; offset += 8192)
            _framer.Feed(_reply.AsSpan(offset, Math.Min(8192, _reply.Length - offset)), _ => _messages++);
        return _messages;
    }

    [Benchmark]
    public string AnalyseAndRewriteTpcbUpdate()
        => SqlAnalysis.Of("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;").Rewrite(1234, null);

    [Benchmark]
    public string AnalyseAndRewriteAdvisoryLock()
        => SqlAnalysis.Of("SELECT pg_advisory_lock(72707369)").Rewrite(1234, null);

    [Benchmark]
    public bool AnalyseAndParameterizeSelect()
        => SqlAnalysis.Of("SELECT abalance FROM pgbench_accounts WHERE aid = 42;").TryParameterize(out _);
}
