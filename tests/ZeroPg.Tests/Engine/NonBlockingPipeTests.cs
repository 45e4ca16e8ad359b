using System.IO.Pipes;
using ZeroPg.Engine;

namespace ZeroPg.Tests.Engine;

/// <summary>The reader thread's writes to the engine: whole frames or nothing, never a wait, the stream's descriptor left blocking.</summary>
public sealed class NonBlockingPipeTests
{
    [Fact]
    public void A_full_pipe_takes_no_part_of_a_frame_and_the_frames_it_took_are_whole()
    {
        using var reader = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new AnonymousPipeClientStream(PipeDirection.Out, reader.ClientSafePipeHandle);
        using var pipe = NonBlockingPipe.Open(writer)!;
        var frame = new byte[1000];
        var written = 0;
        while (true)
        {
            frame.AsSpan().Fill((byte)(written % 251));
            if (!pipe.TryWrite(frame))
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
        Assert.True(pipe.TryWrite(marker), "room again once read");
        var next = new byte[frame.Length];
        reader.ReadExactly(next);
        Assert.Equal(marker, next); // nothing of the refused frame came before it
    }

    [Fact]
    public async Task The_stream_stays_blocking_for_other_writes_and_large_frames_are_left_to_them()
    {
        using var reader = new AnonymousPipeServerStream(PipeDirection.In);
        using var writer = new AnonymousPipeClientStream(PipeDirection.Out, reader.ClientSafePipeHandle);
        using var pipe = NonBlockingPipe.Open(writer)!;
        Assert.False(pipe.TryWrite(new byte[NonBlockingPipe.AtomicBytes + 1]));
        Assert.True(pipe.TryWrite(new byte[10]));
        // 100 KB is more than the pipe holds: a blocking write waits for the reader instead of failing with EAGAIN.
        var big = new byte[100_000];
        var write = Task.Run(() => writer.Write(big));
        var read = new byte[10 + big.Length];
        reader.ReadExactly(read);
        await write;
    }

    [Fact]
    public void The_reader_sees_the_end_once_the_stream_and_the_second_descriptor_are_both_closed()
    {
        // What EngineProcess.DisposeAsync relies on: the host reads its input to its end, then closes PGlite and exits.
        using var reader = new AnonymousPipeServerStream(PipeDirection.In);
        var writer = new AnonymousPipeClientStream(PipeDirection.Out, reader.ClientSafePipeHandle);
        var pipe = NonBlockingPipe.Open(writer)!;
        Assert.True(pipe.TryWrite([1, 2, 3]));
        writer.Dispose();
        var buffer = new byte[16];
        Assert.Equal(3, reader.Read(buffer)); // still open through the second descriptor: no end yet after the bytes
        Assert.True(pipe.TryWrite([4]));
        Assert.Equal(1, reader.Read(buffer));
        pipe.Dispose();
        Assert.Equal(0, reader.Read(buffer));
        Assert.Throws<IOException>(() => pipe.TryWrite([5]));
    }

    [Fact]
    public async Task A_fifo_opened_as_a_file_gets_a_non_blocking_writer_too()
    {
        // A worker of the shared engine host reads its requests from a FIFO (Pool.EngineFifos).
        var path = Path.Combine(Path.GetTempPath(), $"zeropg-nbp-{Guid.NewGuid():N}");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", path))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }
        try
        {
            var opening = Task.Run(() => new FileStream(path, FileMode.Open, FileAccess.Read));
            using var writer = new FileStream(path, FileMode.Open, FileAccess.Write);
            using var reader = await opening;
            using var pipe = NonBlockingPipe.Open(writer)!;
            Assert.True(pipe.TryWrite([7, 8]));
            var buffer = new byte[2];
            reader.ReadExactly(buffer);
            Assert.Equal([7, 8], buffer);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_pipe_whose_reader_is_gone_fails_the_write()
    {
        // As an engine process's stdin (ChildProcessChannel) when the process died.
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30") { RedirectStandardInput = true, UseShellExecute = false })!;
        using var pipe = NonBlockingPipe.Open(process.StandardInput.BaseStream);
        Assert.NotNull(pipe);
        Assert.True(pipe.TryWrite(new byte[10]));
        process.Kill();
        await process.WaitForExitAsync();
        Assert.Throws<IOException>(() => pipe.TryWrite(new byte[10]));
    }
}
