using System.Collections.Concurrent;
using System.Diagnostics;

namespace ZeroPg.Bench.InProcess;

/// <summary>
/// The three-stage layout ZeroPg's server and engine host have (receive; engine; send), as threads of one process: a
/// connection's socket thread queues its batch, the engine thread runs it, the sender thread writes the reply. The engine
/// and sender threads poll their queues for 0.5 ms, yielding, before they sleep (ZeroPg's reader and engine host do the same).
/// </summary>
internal sealed class EnginePipeline(PgliteInV8 engine) : IBatchSink
{
    private readonly StageQueue<(byte[] Batch, IReplyTarget To)> _batches = new();
    private readonly StageQueue<(IReplyTarget To, byte[] Reply)> _replies = new();

    public void Start()
    {
        new Thread(RunEngine) { IsBackground = true, Name = "engine" }.Start();
        new Thread(RunSender) { IsBackground = true, Name = "sender" }.Start();
    }

    public void Post(byte[] batch, IReplyTarget to) => _batches.Add((batch, to));

    private void RunEngine()
    {
        var reply = new byte[65536];
        while (true)
        {
            var (batch, to) = _batches.Take();
            var length = engine.Run(batch, ref reply);
            _replies.Add((to, reply.AsSpan(0, length).ToArray()));
        }
    }

    private void RunSender()
    {
        while (true)
        {
            var (to, bytes) = _replies.Take();
            to.Send(bytes);
        }
    }

    /// <summary>A queue one thread takes from: it polls for 0.5 ms, yielding the core, then sleeps until woken.</summary>
    private sealed class StageQueue<T>
    {
        private readonly ConcurrentQueue<T> _items = new();
        private readonly SemaphoreSlim _wake = new(0);
        private volatile bool _sleeping;

        public void Add(T item)
        {
            _items.Enqueue(item);
            if (_sleeping)
                _wake.Release();
        }

        public T Take()
        {
            while (true)
            {
                if (_items.TryDequeue(out var item))
                    return item;
                var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2000;
                while (_items.IsEmpty && Stopwatch.GetTimestamp() < until)
                    Thread.Yield();
                if (!_items.IsEmpty)
                    continue;
                _sleeping = true;
                if (_items.IsEmpty)
                    _wake.Wait(5);
                _sleeping = false;
            }
        }
    }
}
