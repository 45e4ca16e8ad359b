using System.Text.RegularExpressions;

namespace ZeroPg.Soak;

/// <summary>
/// CREATE DATABASE, a few statements in it, DROP DATABASE, every 30 s; and one database (soak_idle) left alone until the
/// server has evicted its engine (its /metrics state), then touched: its row must still be there.
/// </summary>
public sealed partial class Databases(SoakContext context)
{
    public const string Idle = "soak_idle";
    private readonly Outcomes _createDrop = new(), _idle = new();
    private long _evictionsSeen, _idleRowMissing, _evictionWaitsTimedOut;

    public long IdleRowMissing => Interlocked.Read(ref _idleRowMissing);

    public static async Task SetupAsync(SoakContext context, CancellationToken cancel)
    {
        await using (var postgres = await context.OpenAsync(cancel))
            await SoakContext.ExecuteAsync(postgres, $"CREATE DATABASE {Idle}", cancel);
        await using var idle = await context.OpenAsync(cancel, Idle);
        await SoakContext.ExecuteAsync(idle, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')", cancel);
    }

    public Task RunAsync(CancellationToken stop) => Task.WhenAll(CreateDropAsync(stop), IdleAsync(stop));

    private async Task CreateDropAsync(CancellationToken stop)
    {
        var n = 0;
        string? leftover = null;
        while (!stop.IsCancellationRequested)
        {
            var next = context.Timeline.Now + context.Options.CreateDropEvery;
            var from = context.Timeline.Now;
            var name = $"soak_db_{++n}";
            try
            {
                if (leftover is not null)
                {
                    // the one a fault interrupted: dropped first, so databases do not pile up
                    await using var postgres = await context.OpenAsync(stop);
                    await SoakContext.ExecuteAsync(postgres, $"DROP DATABASE IF EXISTS {leftover} WITH (FORCE)", stop);
                    leftover = null;
                }
                await using (var postgres = await context.OpenAsync(stop))
                using (context.Activities.Begin("create database"))
                    await SoakContext.ExecuteAsync(postgres, $"CREATE DATABASE {name}", stop);
                await using (var database = await context.OpenAsync(stop, name))
                {
                    await SoakContext.ExecuteAsync(database, "CREATE TABLE t (id int PRIMARY KEY, v text)", stop);
                    await SoakContext.ExecuteAsync(database, "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g", stop);
                    if (await SoakContext.ScalarAsync(database, "SELECT count(*) FROM t", stop) != 1000)
                        throw new InvalidOperationException($"{name}: the 1000 rows just inserted are not all there");
                }
                await using (var postgres = await context.OpenAsync(stop))
                using (context.Activities.Begin("drop database"))
                    await SoakContext.ExecuteAsync(postgres, $"DROP DATABASE {name}", stop);
                _createDrop.Success();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                leftover ??= name;
                _createDrop.Error(context.Timeline, from, error);
                context.Progress($"create/drop {name} failed: {Outcomes.Describe(error)}");
            }
            if (!await DelayUntilAsync(next, stop))
                return;
        }
    }

    private async Task IdleAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            // Wait for the eviction: the idle timeout, plus the time its check takes to come round.
            var deadline = context.Timeline.Now + context.Options.DatabaseIdleTimeout * 2 + TimeSpan.FromSeconds(60);
            var evicted = false;
            while (!stop.IsCancellationRequested && context.Timeline.Now < deadline)
            {
                if (await context.Server.MetricsAsync(stop) is { } metrics && IdleState().Match(metrics) is { Success: true } state
                    && state.Groups[1].Value == "evicted")
                {
                    evicted = true;
                    break;
                }
                if (!await DelayUntilAsync(context.Timeline.Now + TimeSpan.FromSeconds(2), stop))
                    return;
            }
            if (stop.IsCancellationRequested)
                return;
            if (evicted)
                Interlocked.Increment(ref _evictionsSeen);
            else
                Interlocked.Increment(ref _evictionWaitsTimedOut);
            var from = context.Timeline.Now;
            try
            {
                await using var idle = await context.OpenAsync(stop, Idle);
                await using var read = new Npgsql.NpgsqlCommand("SELECT v FROM kept", idle);
                if (await read.ExecuteScalarAsync(stop) as string != "still here")
                {
                    Interlocked.Increment(ref _idleRowMissing);
                    context.Progress($"idle database: its row is gone after {(evicted ? "an eviction" : "a wait")}");
                }
                _idle.Success();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                _idle.Error(context.Timeline, from, error);
                context.Progress($"idle database touch failed: {Outcomes.Describe(error)}");
            }
        }
    }

    private async Task<bool> DelayUntilAsync(TimeSpan at, CancellationToken stop)
    {
        try
        {
            var wait = at - context.Timeline.Now;
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [GeneratedRegex("zeropg_database_engine_state\\{database=\"soak_idle\",state=\"(\\w+)\"\\} 1")]
    private static partial Regex IdleState();

    public Dictionary<string, object> Report() => new()
    {
        ["createUseDrop"] = _createDrop.Report(),
        ["idleDatabase"] = new Dictionary<string, object>(_idle.Report())
        {
            ["evictionsSeen"] = Interlocked.Read(ref _evictionsSeen),
            ["evictionWaitsTimedOut"] = Interlocked.Read(ref _evictionWaitsTimedOut),
            ["rowMissing"] = IdleRowMissing,
        },
    };
}
