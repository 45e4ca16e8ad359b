using System.Globalization;
using Npgsql;

namespace ZeroPg.Soak;

/// <summary>What every workload shares: the options, the server (its port), the timeline of faults, the progress log.</summary>
public sealed class SoakContext(SoakOptions options, ServerProcess server, Timeline timeline)
{
    public SoakOptions Options => options;

    public ServerProcess Server => server;

    public Timeline Timeline => timeline;

    /// <summary>When the heavy operations ran, to put the witness's slow answers beside them.</summary>
    public Activities Activities { get; } = new(timeline);

    public void Progress(string line)
    {
        var text = $"[soak {Timeline.Now:hh\\:mm\\:ss}] {line}";
        Options.Progress?.WriteLine(text);
        Server.Log(line);
    }

    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancel, string database = "postgres", string? extra = null)
    {
        var connection = new NpgsqlConnection(Server.ConnectionString(database) + (extra is null ? "" : ";" + extra));
        try
        {
            await connection.OpenAsync(cancel);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancel)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancel), CultureInfo.InvariantCulture);
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancel)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancel);
    }
}

/// <summary>Counts a workload's outcomes: errors inside a fault's window are expected, the others are findings.</summary>
public sealed class Outcomes
{
    private readonly Dictionary<string, int> _unexpected = [];
    private long _ok, _expectedErrors, _unexpectedErrors;

    public long Ok => Interlocked.Read(ref _ok);

    public long ExpectedErrors => Interlocked.Read(ref _expectedErrors);

    public long UnexpectedErrors => Interlocked.Read(ref _unexpectedErrors);

    public void Success() => Interlocked.Increment(ref _ok);

    /// <summary>Records an error that happened between <paramref name="from"/> and now.</summary>
    public void Error(Timeline timeline, TimeSpan from, Exception error)
    {
        if (timeline.Overlaps(from, timeline.Now))
        {
            Interlocked.Increment(ref _expectedErrors);
            return;
        }
        Interlocked.Increment(ref _unexpectedErrors);
        var key = Describe(error);
        lock (_unexpected)
            _unexpected[key] = _unexpected.GetValueOrDefault(key) + 1;
    }

    public static string Describe(Exception error)
    {
        var text = error is PostgresException pg ? $"{pg.SqlState} {pg.MessageText}" : $"{error.GetType().Name}: {error.Message}";
        text = text.ReplaceLineEndings(" ");
        return text.Length > 160 ? text[..160] : text;
    }

    public Dictionary<string, object> Report()
    {
        lock (_unexpected)
        {
            return new Dictionary<string, object>
            {
                ["ok"] = Ok,
                ["errorsInFaultWindows"] = ExpectedErrors,
                ["errorsOutsideFaultWindows"] = UnexpectedErrors,
                ["unexpectedErrors"] = _unexpected.OrderByDescending(e => e.Value).Take(10).ToDictionary(e => e.Key, e => (object)e.Value),
            };
        }
    }
}
