using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// What a graduation command tells its user while it runs: progress lines on stderr (stdout may be
/// carrying a dump), prefixed with the command and the seconds since it started.
/// </summary>
internal sealed class ProgressLog(string command, TextWriter? writer = null, bool quiet = false)
{
    private readonly TextWriter _writer = writer ?? Console.Error;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Progress(string message)
    {
        if (!quiet)
            Write(message);
    }

    public void Warn(string message) => Write($"warning: {message}");

    public void Error(string message, string? hint = null)
    {
        Write($"error: {message}");
        if (hint is not null)
            Write($"hint: {hint}");
    }

    private void Write(string message)
    {
        lock (_gate)
        {
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"zeropg {command} [{_clock.Elapsed.TotalSeconds,6:0.0}s] {message}"));
            _writer.Flush();
        }
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} kB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:0.00} GB"),
    };

    /// <summary>
    /// Logs of the private servers the commands start, on stderr: warnings and errors, and unless quiet the engine's start
    /// (the first start with a PGlite build runs initdb for several seconds and says so).
    /// </summary>
    public ILoggerFactory ServerLogs() => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(LogLevel.Warning)
        .AddFilter("ZeroPg.Engine.EngineSupervisor", quiet ? LogLevel.Warning : LogLevel.Information)
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}

/// <summary>Counts the bytes written through it, for progress on long writes.</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    private long _written;

    public long Written => Interlocked.Read(ref _written);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Interlocked.Add(ref _written, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        Interlocked.Add(ref _written, buffer.Length);
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
