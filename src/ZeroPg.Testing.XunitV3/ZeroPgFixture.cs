using Xunit;

namespace ZeroPg.Testing;

/// <summary>
/// An xunit v3 class or collection fixture: one ZeroPg server for the tests that share it (<see cref="ZeroPgDatabase"/>).
/// <code>
/// public sealed class Db : ZeroPgFixture { protected override async Task OnStartedAsync() { /* migrate */ await SnapshotAsync(); } }
/// public sealed class OrderTests(Db db) : IClassFixture&lt;Db&gt;, IAsyncLifetime
/// {
///     public ValueTask InitializeAsync() => new(db.RestoreAsync());
///     public ValueTask DisposeAsync() => default;
/// }
/// </code>
/// </summary>
public class ZeroPgFixture : ZeroPgDatabase, IAsyncLifetime
{
    ValueTask IAsyncLifetime.InitializeAsync() => new(StartAsync());
}
