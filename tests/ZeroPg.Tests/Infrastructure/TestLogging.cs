using Microsoft.Extensions.Logging;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>Server logs for tests: warnings and up on stderr, so a failing test shows what the server saw.</summary>
public static class TestLogging
{
    public static ILoggerFactory Factory { get; } = LoggerFactory.Create(b => b
        .SetMinimumLevel(Environment.GetEnvironmentVariable("ZEROPG_TEST_LOG")  is { } level ? Enum.Parse<LogLevel>(level, ignoreCase: true) : LogLevel.Warning)
        .AddFilter("Microsoft", LogLevel.Warning) // Kestrel's and the host's own chatter drowns ZeroPg's lines at Debug/Trace
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true; // one line per entry, timed: several servers' lines interleave in one run
            o.TimestampFormat = "HH:mm:ss.fff ";
        }));
}
