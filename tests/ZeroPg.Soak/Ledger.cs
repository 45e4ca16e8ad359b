using Npgsql;

namespace ZeroPg.Soak;

/// <summary>
/// Writers that commit one ledger row per transaction and note its id only once the server said COMMIT; after every
/// restart (and at the end) every noted id must be in the table. Ids are writer * 1e9 + sequence, so the replication
/// consumer can check each writer's commit order. The table is the publication the consumer streams.
/// </summary>
public sealed class Ledger(SoakContext context)
{
    public const int Writers = 2;
    public const long WriterStride = 1_000_000_000;
    private readonly List<long> _acknowledged = [];
    private readonly HashSet<long> _lost = [];
    private readonly Outcomes _outcomes = new();
    private int _checks;
    private long _injected;

    public static string Setup => """
        CREATE TABLE IF NOT EXISTS soak_ledger (id bigint PRIMARY KEY, writer int NOT NULL, at timestamptz NOT NULL DEFAULT now());
        """;

    public int AcknowledgedCount
    {
        get
        {
            lock (_acknowledged)
                return _acknowledged.Count;
        }
    }

    public Task RunAsync(CancellationToken stop) => Task.WhenAll(Enumerable.Range(1, Writers).Select(writer => WriteAsync(writer, stop)));

    private async Task WriteAsync(int writer, CancellationToken stop)
    {
        long sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            var from = context.Timeline.Now;
            try
            {
                await using var connection = await context.OpenAsync(stop);
                while (!stop.IsCancellationRequested)
                {
                    var id = writer * WriterStride + ++sequence;
                    from = context.Timeline.Now;
                    await using (var insert = new NpgsqlCommand($"INSERT INTO soak_ledger (id, writer) VALUES ({id}, {writer})", connection))
                        await insert.ExecuteNonQueryAsync(stop);
                    lock (_acknowledged)
                        _acknowledged.Add(id); // only once the server acknowledged the commit
                    _outcomes.Success();
                    await Task.Delay(15, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                // A kill cut the connection mid-commit: that id may or may not be there, it was never noted as acknowledged.
                _outcomes.Error(context.Timeline, from, error);
                await Task.Delay(200, CancellationToken.None);
            }
        }
    }

    /// <summary>Every id acknowledged so far must be in the table; returns how many are missing now (each counted once overall).</summary>
    public async Task<int> CheckAsync(string when, CancellationToken cancel)
    {
        long[] acknowledged;
        lock (_acknowledged)
            acknowledged = [.. _acknowledged];
        await using var connection = await context.OpenAsync(cancel);
        if (context.Options.InjectLostCommit && _injected == 0 && acknowledged.Length > 0)
        {
            // The test hook: one acknowledged commit disappears, as if the server had lost it.
            _injected = acknowledged[acknowledged.Length / 2];
            await SoakContext.ExecuteAsync(connection, $"DELETE FROM soak_ledger WHERE id = {_injected}", cancel);
            context.Progress($"test hook: deleted acknowledged ledger row {_injected}");
        }
        var present = await IdsAsync(connection, cancel);
        var missing = acknowledged.Where(id => !present.Contains(id)).ToList();
        lock (_lost)
        {
            _checks++;
            foreach (var id in missing)
                _lost.Add(id);
        }
        context.Progress($"ledger check {when}: {acknowledged.Length} acknowledged, {present.Count} rows, {missing.Count} missing");
        return missing.Count;
    }

    public static async Task<HashSet<long>> IdsAsync(NpgsqlConnection connection, CancellationToken cancel)
    {
        var present = new HashSet<long>();
        await using var select = new NpgsqlCommand("SELECT id FROM soak_ledger", connection);
        await using var reader = await select.ExecuteReaderAsync(cancel);
        while (await reader.ReadAsync(cancel))
            present.Add(reader.GetInt64(0));
        return present;
    }

    public int LostCount
    {
        get
        {
            lock (_lost)
                return _lost.Count;
        }
    }

    public Dictionary<string, object> Report()
    {
        lock (_lost)
        {
            var report = _outcomes.Report();
            report["acknowledged"] = AcknowledgedCount;
            report["checks"] = _checks;
            report["lost"] = _lost.Count;
            report["lostIds"] = _lost.Order().Take(20).ToList();
            report["injectedLoss"] = _injected;
            return report;
        }
    }
}
