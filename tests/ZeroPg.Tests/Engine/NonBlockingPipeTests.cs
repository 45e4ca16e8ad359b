using System.IO.Pipes;
using ZeroPg.Engine;

namespace ZeroPg.Tests.Engine;

/// <summary>The reader thread's writes to the engine: whole frames or nothing, never a wait, the descriptor left blocking.</summary>
public sealed class NonBlockingPipeTests
{
    [Fact]
    public void A_full_pipe_takes_no_part_of_a_frame_and_the_frames_it_took_are_whole()
    {
        using var reader = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new AnonymousPipeClientStream(PipeDirection.Out, reader.ClientSafePipeHandle);
        var handle = NonBlockingPipe.HandleOf(writer)!;
        var frame = new byte[1000];
        var written = 0;
        while (true)
        {
            frame.AsSpan().Fill((byte)(written % 251));
            if (!NonBlockingPipe.TryWrite(handle, frame))
                break;
            written++;
            Assert.True(written < 10_000, "a pipe that never fills");
        }
        // Linux pipes hold 64 KiB: they filled, and the frame that did not fit whole was not written in part.
        Assert.InRange(written, 60, 65);
        var all = new byte[written * frame.Length];
        reader.ReadExactly(all);
        for (var i = 0; i < written; i++)
            Assert.All(all.AsSpan(i * frame.Length, frame.Length).ToArray(), b => Assert.Equal((byte)(i % 251), b));
        var marker = Enumerable.Repeat((byte)0xEE, frame.Length).ToArray();
        Assert.True(NonBlockingPipe.TryWrite(handle, marker), "room again once read");
        var next = new byte[frame.Length];
        reader.ReadExactly(next);
        Assert.Equal(marker, next); // nothing of the refused frame came before it
    }

    [Fact]
    public async Task The_descriptor_stays_blocking_for_other_writes_and_large_frames_are_left_to_them()
    {
        using var reader = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new AnonymousPipeClientStream(PipeDirection.Out, reader.ClientSafePipeHandle);
        var handle = NonBlockingPipe.HandleOf(writer)!;
        Assert.False(NonBlockingPipe.TryWrite(handle, new byte[NonBlockingPipe.AtomicBytes + 1]));
        Assert.True(NonBlockingPipe.TryWrite(handle, new byte[10]));
        // 100 KB is more than the pipe holds: a blocking write waits for the reader instead of failing with EAGAIN.
        var big = new byte[100_000];
        var write = Task.Run(() => writer.Write(big));
        var read = new byte[10 + big.Length];
        reader.ReadExactly(read);
        await write;
    }

    [Fact]
    public async Task A_pipe_whose_reader_is_gone_fails_the_write()
    {
        // As an engine process's stdin (ChildProcessChannel) when the process died.
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30") { RedirectStandardInput = true, UseShellExecute = false })!;
        var handle = NonBlockingPipe.HandleOf(process.StandardInput.BaseStream);
        Assert.NotNull(handle);
        Assert.True(NonBlockingPipe.TryWrite(handle, new byte[10]));
        process.Kill();
        await process.WaitForExitAsync();
        Assert.Throws<IOException>(() => NonBlockingPipe.TryWrite(handle, new byte[10]));
    }
}
