using Microsoft.Extensions.Logging;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>Server logs for tests: warnings and up on stderr, so a failing test shows what the server saw.</summary>
public static class TestLogging
{
    public static ILoggerFactory Factory { get; } = LoggerFactory.Create(b => b
        .SetMinimumLevel(Environment.GetEnvironmentVariable("ZEROPG_TEST_LOG")  is { } level ? Enum.Parse<LogLevel>(level, ignoreCase: true) : LogLevel.Warning)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
