using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli;

/// <summary>
/// A logger factory made on another thread while the server starts. Microsoft's console logger takes ~10 ms of a native
/// build's start to set up (its options are bound from configuration, generic types made at run time), and the shared engine
/// host's spawn, the start's longest path, would wait for it. Loggers are handed out at once; each waits for the factory the
/// first time it is used.
/// </summary>
internal sealed class DeferredLoggerFactory(Func<ILoggerFactory> create) : ILoggerFactory
{
    private readonly Task<ILoggerFactory> _factory = Task.Run(create);

    private ILoggerFactory Factory => _factory.GetAwaiter().GetResult();

    public ILogger CreateLogger(string categoryName) => new DeferredLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => Factory.AddProvider(provider);

    public void Dispose() => Factory.Dispose();

    private sealed class DeferredLogger(DeferredLoggerFactory owner, string category) : ILogger
    {
        private ILogger? _logger; // a race makes two of the same category's logger; the factory's loggers are equal

        private ILogger Logger => _logger ??= owner.Factory.CreateLogger(category);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => Logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => Logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Logger.Log(logLevel, eventId, state, exception, formatter);
    }
}
