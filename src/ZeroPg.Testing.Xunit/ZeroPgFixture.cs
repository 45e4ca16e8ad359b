using Xunit;

namespace ZeroPg.Testing;

/// <summary>
/// An xunit v2 class or collection fixture: one ZeroPg server for the tests that share it (<see cref="ZeroPgDatabase"/>).
/// <code>
/// public sealed class Db : ZeroPgFixture { protected override async Task OnStartedAsync() { /* migrate */ await SnapshotAsync(); } }
/// public sealed class OrderTests(Db db) : IClassFixture&lt;Db&gt;, IAsyncLifetime
/// {
///     public Task InitializeAsync() => db.RestoreAsync();
///     public Task DisposeAsync() => Task.CompletedTask;
/// }
/// </code>
/// </summary>
public class ZeroPgFixture : ZeroPgDatabase, IAsyncLifetime
{
    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
