using System.Globalization;
using Npgsql;

namespace ZeroPg.Soak;

/// <summary>
/// Every minute a COPY FROM STDIN of ~<see cref="SoakOptions.CopyMegabytes"/> MB into a fresh table, then a COPY TO STDOUT of
/// it: the rows and bytes read back must be what went in (unless a fault fell in between).
/// </summary>
public sealed class CopyInOut(SoakContext context)
{
    private const int RowBytes = 100; // "id\t" + 88 characters of payload + newline: ~100 bytes
    private readonly Outcomes _outcomes = new();
    private readonly List<double> _inSeconds = [], _outSeconds = [];
    private readonly List<string> _runs = [];
    private long _mismatches;

    public long Mismatches => Interlocked.Read(ref _mismatches);

    public async Task RunAsync(CancellationToken stop)
    {
        var rows = context.Options.CopyMegabytes * 1024L * 1024 / RowBytes;
        var payload = new string('c', RowBytes - 12);
        while (!stop.IsCancellationRequested)
        {
            var next = context.Timeline.Now + context.Options.CopyEvery;
            var from = context.Timeline.Now;
            try
            {
                await using var connection = await context.OpenAsync(stop);
                await SoakContext.ExecuteAsync(connection, "DROP TABLE IF EXISTS soak_copy; CREATE TABLE soak_copy (id bigint, payload text)", stop);
                var started = context.Timeline.Now;
                long writtenChars = 0;
                await using (var writer = await connection.BeginTextImportAsync("COPY soak_copy (id, payload) FROM STDIN", stop))
                {
                    for (long i = 0; i < rows; i++)
                    {
                        var id = i.ToString(CultureInfo.InvariantCulture); // as COPY TO writes it back
                        writtenChars += id.Length + 1 + payload.Length + 1;
                        await writer.WriteAsync(id);
                        await writer.WriteAsync('\t');
                        await writer.WriteLineAsync(payload);
                    }
                }
                var loaded = context.Timeline.Now;
                long readRows = 0, readChars = 0;
                using (var reader = await connection.BeginTextExportAsync("COPY soak_copy TO STDOUT", stop))
                {
                    while (await reader.ReadLineAsync(stop) is { } line)
                    {
                        readRows++;
                        readChars += line.Length + 1;
                    }
                }
                var done = context.Timeline.Now;
                context.Activities.Add("copy in", started, loaded);
                context.Activities.Add("copy out", loaded, done);
                lock (_inSeconds)
                {
                    _runs.Add($"{started:hh\\:mm\\:ss}-{done:hh\\:mm\\:ss}");
                    _inSeconds.Add((loaded - started).TotalSeconds);
                    _outSeconds.Add((done - loaded).TotalSeconds);
                }
                if (readRows != rows || readChars != writtenChars)
                {
                    Interlocked.Increment(ref _mismatches);
                    context.Progress($"copy: {rows} rows went in, {readRows} rows ({readChars} bytes) came out");
                }
                context.Progress($"copy: {rows} rows ({context.Options.CopyMegabytes} MB) in {(loaded - started).TotalSeconds:F1} s, out in {(done - loaded).TotalSeconds:F1} s");
                _outcomes.Success();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                _outcomes.Error(context.Timeline, from, error);
                context.Progress($"copy failed: {Outcomes.Describe(error)}");
            }
            if (!await context.Timeline.WaitUntilAsync(next, stop))
                return;
        }
    }

    public Dictionary<string, object> Report()
    {
        var report = _outcomes.Report();
        lock (_inSeconds)
        {
            report["megabytes"] = context.Options.CopyMegabytes;
            report["copyInSecondsMax"] = _inSeconds.Count == 0 ? 0 : Math.Round(_inSeconds.Max(), 1);
            report["copyOutSecondsMax"] = _outSeconds.Count == 0 ? 0 : Math.Round(_outSeconds.Max(), 1);
            report["copyInSecondsMedian"] = _inSeconds.Count == 0 ? 0 : Math.Round(_inSeconds.Order().ElementAt(_inSeconds.Count / 2), 1);
            report["runs"] = _runs.ToList(); // when each ran: the witness's slow answers beside them
        }
        report["mismatches"] = Mismatches;
        return report;
    }
}
