using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>The server's logs go to its resource's console log in the Aspire dashboard (Information and above).</summary>
internal sealed class ResourceLoggerFactory(ILogger resourceLogger) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Filtered(resourceLogger);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Filtered(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
