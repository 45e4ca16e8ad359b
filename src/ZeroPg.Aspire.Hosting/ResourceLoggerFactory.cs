using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// The server's logs (Information and above) go to its resource's console log in the Aspire dashboard and to the
/// AppHost's own logging, so they appear in the AppHost's console beside Aspire's, under the server's categories
/// (ZeroPg.*), filtered by the AppHost's Logging settings.
/// </summary>
internal sealed class ResourceLoggerFactory(ILogger resourceLogger, ILoggerFactory? appHostLoggers) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new Filtered(resourceLogger, appHostLoggers?.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Filtered(ILogger resource, ILogger? appHost) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel)
            => logLevel >= LogLevel.Information && (resource.IsEnabled(logLevel) || appHost?.IsEnabled(logLevel) == true);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel < LogLevel.Information)
                return;
            if (resource.IsEnabled(logLevel))
                resource.Log(logLevel, eventId, state, exception, formatter);
            if (appHost?.IsEnabled(logLevel) == true)
                appHost.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
