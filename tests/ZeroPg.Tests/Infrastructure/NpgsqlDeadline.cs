namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// A cancellation source that cancels itself after a time, for tokens handed to Npgsql. A plain
/// <c>new CancellationTokenSource(TimeSpan)</c> cancels on a timer thread, and Npgsql 10's callback for a connection that a
/// kill or an ended stream broke throws (NullReferenceException in <c>PerformUserCancellationUnsynchronized</c>): thrown
/// on a timer thread, that ends the whole test host. Here the timer's cancel swallows what the token's callbacks throw;
/// every callback still runs, and a test's own Cancel/CancelAsync still sees the exception.
/// </summary>
internal static class NpgsqlDeadline
{
    public static CancellationTokenSource After(TimeSpan delay)
    {
        var source = new CancellationTokenSource();
        // The timer keeps the source alive until it fires; a source disposed by then is simply not cancelled.
        _ = new Timer(static state =>
        {
            try
            {
                ((CancellationTokenSource)state!).Cancel();
            }
            catch (AggregateException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }, source, delay, Timeout.InfiniteTimeSpan);
        return source;
    }
}
