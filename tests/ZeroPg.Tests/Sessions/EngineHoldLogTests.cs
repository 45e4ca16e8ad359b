using System.Text.RegularExpressions;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// The hold log (EngineHoldLog) says how much of a long hold the engine spent on the holder's statements: a transaction that
/// ran a long statement and one that sat idle in its block look alike by their state at the end, not by this figure.
/// </summary>
public sealed partial class EngineHoldLogTests
{
    [Fact]
    public async Task A_long_hold_is_logged_with_the_engine_time_its_statements_took()
    {
        // Busy: a statement of 1.5 s inside the block (which holds the engine from its CREATE TABLE on) while the other client waits.
        var busy = await HoldWhileOtherWaitsAsync(holder => holder.ExecAsync("SELECT pg_sleep(1.5)"));
        Assert.True(busy.EngineMs >= 1_400, $"the engine ran the holder's statements {busy.EngineMs} ms of its {busy.HeldMs} ms hold: {busy.Line}");
        Assert.True(busy.Calls >= 1);
        Assert.Contains(", connected; ", busy.Line); // a departed holder's line says so (SessionCancel.ConnectionState)
    }

    [Fact]
    public async Task An_idle_hold_is_logged_with_little_engine_time()
    {
        // The holder sits idle in its block: the idleness is what the test is about.
        var idle = await HoldWhileOtherWaitsAsync(_ => Task.Delay(TimeSpan.FromSeconds(1.5)));
        Assert.True(idle.HeldMs >= 1_400, idle.Line);
        Assert.True(idle.EngineMs < idle.HeldMs / 2, $"the engine ran the holder's statements {idle.EngineMs} ms of its {idle.HeldMs} ms hold: {idle.Line}");
    }

    /// <summary>A client opens a block, then does <paramref name="meanwhile"/> while another client's SELECT waits, then commits: the hold's log line.</summary>
    private static async Task<(long HeldMs, long EngineMs, int Calls, string Line)> HoldWhileOtherWaitsAsync(Func<NpgsqlConnection, Task> meanwhile)
    {
        using var logs = new CapturedLogs();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), logs.Factory);
        await using var holder = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await holder.OpenAsync();
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await holder.ExecAsync("BEGIN");
        await holder.ExecAsync("CREATE TABLE held (x int)");
        var waiting = other.ScalarAsync("SELECT 1");
        await meanwhile(holder);
        Assert.False(waiting.IsCompleted);
        await holder.ExecAsync("COMMIT");
        Assert.Equal(1, await waiting);
        return await HoldLineAsync(logs);
    }

    private static async Task<(long HeldMs, long EngineMs, int Calls, string Line)> HoldLineAsync(CapturedLogs logs)
    {
        Match? match = null;
        await Eventually.WaitUntilAsync(() => (match = logs.Messages.Select(m => HoldLine().Match(m)).FirstOrDefault(m => m.Success)) is not null, "a hold line is logged");
        return (long.Parse(match!.Groups[1].Value), long.Parse(match.Groups[2].Value), int.Parse(match.Groups[3].Value), match.Value);
    }

    [GeneratedRegex(@"held (\d+) ms while \d+ waited, by client \d+ \([^;]*; the engine ran its statements (\d+) ms in (\d+) calls of the turn\)")]
    private static partial Regex HoldLine();
}
