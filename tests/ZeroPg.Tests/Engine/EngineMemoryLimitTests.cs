using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// Issue 59, item 4: one statement took an engine host from ~230 MB to 2 GB for good (WebAssembly memory never shrinks):
/// <c>SELECT repeat('x', 900000000)</c> is enough. Each engine's memory is capped (<see cref="ZeroPgOptions.EngineMemoryLimitMb"/>):
/// the statement that asks for more fails with 53200, as a Postgres backend does when the machine has no more, and the
/// engine, with every other client's memory:// data, runs on.
/// </summary>
public sealed class EngineMemoryLimitTests
{
    [Theory]
    [InlineData(EngineHostMode.Shared)]
    [InlineData(EngineHostMode.Process)]
    public async Task A_statement_past_the_engine_memory_limit_fails_with_53200_and_costs_no_one_their_data(EngineHostMode mode)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { EngineHost = mode, EngineMemoryLimitMb = 384 }, TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("create table kept(x int); insert into kept values (42)");

        await using var greedy = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await greedy.OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => greedy.ScalarAsync("select length(repeat('x', 500000000))", commandTimeout: 120));
        Assert.Equal("53200", error.SqlState);
        Assert.Equal("ERROR", error.Severity);

        // Npgsql drops its connection after any 53xxx (as it would with Postgres); a new one gets what it needs within the
        // limit. The other client's data is there, and no engine was replaced.
        await using var again = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await again.OpenAsync();
        Assert.Equal(50_000_000, await again.ScalarAsync("select length(repeat('x', 50000000))", commandTimeout: 120));
        Assert.Equal(42, await other.ScalarAsync("select x from kept"));
        Assert.Equal(0, server.Services.Engine.Restarts);
    }

    [Theory]
    [InlineData(255)]
    [InlineData(2049)]
    public async Task A_limit_outside_what_PGlite_can_run_with_is_refused_at_start(int megabytes)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { EngineMemoryLimitMb = megabytes }, TestLogging.Factory));
        Assert.Contains("EngineMemoryLimitMb", error.Message);
    }
}
