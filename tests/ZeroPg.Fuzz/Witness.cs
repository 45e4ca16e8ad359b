using System.Diagnostics;
using Npgsql;

namespace ZeroPg.Fuzz;

/// <summary>
/// A well-behaved client that must keep being served while the fuzz clients do their worst: <c>select 1; begin; insert;
/// update; select count(*); commit</c> again and again, each round answered within the bound, its committed rows never
/// fewer than before (an engine reset on memory:// loses them: that is <see cref="DataLost"/>). A connection the server
/// closes (a fuzz case may terminate backends) is opened again. Each statement is a call, as a client's statements are: one
/// slower than the bound is a stall (named in the failure), and so is a round that is not answered at all.
/// </summary>
internal sealed class Witness(string connectionString, TimeSpan bound)
{
    public long Queries { get; private set; }

    public long Reconnects { get; private set; }

    /// <summary>The slowest call (one statement, its queueing for the engine included).</summary>
    public TimeSpan Slowest { get; private set; }

    /// <summary>What the slowest call was.</summary>
    public string SlowestCall { get; private set; } = "";

    private TimeSpan _intervalSlowest;
    private TimeSpan _roundSlowest;
    private string _roundSlowestCall = "";

    /// <summary>The slowest call since the last time this was asked (the progress lines).</summary>
    public TimeSpan TakeIntervalSlowest()
    {
        var slowest = _intervalSlowest;
        _intervalSlowest = TimeSpan.Zero;
        return slowest;
    }

    /// <summary>Set when the witness's committed rows vanished (its table gone, or fewer rows than it committed).</summary>
    public string? DataLost { get; private set; }

    private long _committed = -1; // rows the witness saw after its last commit (-1: its table not made yet)

    private NpgsqlConnection? _prepared;

    /// <summary>
    /// Before the fuzz clients start: the witness's connection and its table, outside the bound (a fresh server's first
    /// connection and a CREATE TABLE under a loaded machine are not what the bound measures: serving others while fuzzed is).
    /// </summary>
    public async Task SetUpAsync(CancellationToken cancel)
    {
        _prepared = await QueryAsync(null, cancel);
        Queries++;
    }

    /// <summary>Returns when cancelled (no stall), or with the description of a stall.</summary>
    public async Task<string?> RunAsync(CancellationToken cancel)
    {
        var connection = _prepared;
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                try
                {
                    _roundSlowest = TimeSpan.Zero;
                    // Not the run's token: the run's end would cancel the call from a timer thread, and Npgsql 10's user
                    // cancellation can throw a NullReferenceException there when the connection is being broken at that
                    // moment (a fuzz case terminated it), which is unhandled and ends the whole process (the test host, in a
                    // full suite run). The wait below ends at the run's end instead; the call is left to finish.
                    var query = QueryAsync(connection, CancellationToken.None);
                    var finished = await Task.WhenAny(query, Task.Delay(bound * RoundCalls, cancel));
                    if (cancel.IsCancellationRequested)
                        return null;
                    if (finished != query)
                        return $"the witness's round of {RoundCalls} calls got no answer within {(bound * RoundCalls).TotalSeconds:0.#} s";
                    connection = await query;
                    if (DataLost is not null)
                        return DataLost;
                    Queries++;
                    if (_roundSlowest > bound)
                        return $"the witness's {_roundSlowestCall} took {_roundSlowest.TotalMilliseconds:0} ms (bound {bound.TotalSeconds:0.#} s)";
                }
                catch (Exception error) when (error is NpgsqlException or InvalidOperationException or IOException && !cancel.IsCancellationRequested)
                {
                    // Terminated by a fuzz case or dropped: not a stall as long as a new connection is served in time.
                    if (DataLost is not null)
                        return DataLost;
                    Reconnects++;
                    if (connection is not null)
                        await connection.DisposeAsync();
                    connection = null;
                }
                await Task.Delay(50, cancel).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            return null;
        }
        finally
        {
            // Not awaited: a query still in flight on it (the stall being reported) would hold the dispose.
            if (connection is not null)
                _ = Task.Run(async () => await connection.DisposeAsync(), CancellationToken.None);
        }
    }

    /// <summary>One query on a new connection, within the bound; the stall's description when it was not answered.</summary>
    public async Task<string?> RunOnceAsync()
    {
        var query = QueryAsync(null, CancellationToken.None);
        if (await Task.WhenAny(query, Task.Delay(bound * RoundCalls)) != query)
            return $"the witness's round of {RoundCalls} calls got no answer within {(bound * RoundCalls).TotalSeconds:0.#} s";
        try
        {
            await (await query).DisposeAsync();
            return null;
        }
        catch (Exception error) when (error is NpgsqlException or InvalidOperationException or IOException)
        {
            return $"the witness could not be served: {error.Message}";
        }
    }

    private async Task<NpgsqlConnection> QueryAsync(NpgsqlConnection? connection, CancellationToken cancel)
    {
        if (connection is null)
        {
            connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancel);
        }
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        var one = await Timed("SELECT 1", () => command.ExecuteScalarAsync(cancel));
        if (one is not 1)
            throw new InvalidOperationException($"the witness's SELECT 1 returned {one}");
        if (_committed < 0)
        {
            command.CommandText = "CREATE TABLE IF NOT EXISTS zp_fuzz_witness(id serial PRIMARY KEY, n int NOT NULL DEFAULT 0)";
            await command.ExecuteNonQueryAsync(cancel);
            _committed = 0;
        }
        await using var transaction = await Timed("BEGIN", () => connection.BeginTransactionAsync(cancel).AsTask());
        command.Transaction = transaction;
        long rows;
        try
        {
            command.CommandText = "INSERT INTO zp_fuzz_witness DEFAULT VALUES";
            await Timed("INSERT", () => command.ExecuteNonQueryAsync(cancel));
            command.CommandText = "UPDATE zp_fuzz_witness SET n = n + 1 WHERE id = (SELECT min(id) FROM zp_fuzz_witness)";
            await Timed("UPDATE", () => command.ExecuteNonQueryAsync(cancel));
            command.CommandText = "SELECT count(*) FROM zp_fuzz_witness";
            rows = (long)(await Timed("SELECT count(*)", () => command.ExecuteScalarAsync(cancel)))!;
            await Timed("COMMIT", async () => { await transaction.CommitAsync(cancel); return 0; });
        }
        catch (PostgresException error) when (error.SqlState == "42P01")
        {
            DataLost ??= $"the witness's table vanished after {_committed} committed rows ({error.MessageText})";
            throw;
        }
        if (rows <= _committed)
            DataLost ??= $"the witness saw {rows} rows in its transaction after it had committed {_committed}";
        _committed = rows;
        return connection;
    }

    private const int RoundCalls = 6;

    /// <summary>Issue 59's bound for a witness call under fuzzing; each call past it is printed with its time.</summary>
    private static readonly TimeSpan SlowCall = TimeSpan.FromSeconds(2);

    private async Task<T> Timed<T>(string call, Func<Task<T>> run)
    {
        var clock = Stopwatch.StartNew();
        var result = await run();
        var took = clock.Elapsed;
        if (took >= SlowCall)
        {
            // When, so the server's log can say what the call waited behind (its lines "waited ... behind ... turns").
            var end = DateTime.UtcNow;
            Console.WriteLine($"witness: {call} took {took.TotalMilliseconds:0} ms, {end - took:HH:mm:ss.fff} to {end:HH:mm:ss.fff} UTC");
        }
        if (took > _roundSlowest)
            (_roundSlowest, _roundSlowestCall) = (took, call);
        if (took > _intervalSlowest)
            _intervalSlowest = took;
        if (took > Slowest)
            (Slowest, SlowestCall) = (took, call);
        return result;
    }
}
