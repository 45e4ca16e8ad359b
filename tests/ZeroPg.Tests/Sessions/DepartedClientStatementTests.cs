using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// A client whose connection ends without Terminate has its statement cancelled, whether it already runs in the engine or
/// has not reached it yet: nobody will read its result and every other client of the engine waits for it. A process
/// that exits or is killed closes its socket with FIN, not RST, and so does a client that only ends its sending side.
/// Before, a client that left between its statement's arrival and the statement's write to the engine (a preamble
/// running, its turn just granted, or the statement still unread) had it run to its end: the outside fuzzer's dropped
/// `select count(*) from generate_series(1, 20000000)` ran on for 10-13 s, holding the witness client.
/// </summary>
public sealed class DepartedClientStatementTests
{
    private const string Sleep = "select pg_sleep(300)";
    private const string Short = "select pg_sleep(3)";

    public enum Departure
    {
        /// <summary>The statement runs in the engine, then the client closes its socket.</summary>
        CloseWhileRunning,

        /// <summary>The statement runs in the engine, then the client ends its sending side only (shutdown(SHUT_WR)).</summary>
        EndSendingWhileRunning,

        /// <summary>The client sends the statement and closes its socket at once, before the session has run anything of it.</summary>
        CloseRightAfterSending,

        /// <summary>The client sends a short statement and the long one behind it, and closes its socket while the first runs.</summary>
        CloseWhileAnEarlierStatementRuns,

        /// <summary>The client sends a statement with a big reply and the long one behind it, reads nothing, ends its sending side while
        /// the long one waits for the reply to be taken, then reads: the window where a departed client's statement used to run anyway.</summary>
        EndSendingWhileAnEarlierReplyIsUnread,
    }

    [Theory]
    [InlineData(Departure.CloseWhileRunning)]
    [InlineData(Departure.EndSendingWhileRunning)]
    [InlineData(Departure.CloseRightAfterSending)]
    [InlineData(Departure.CloseWhileAnEarlierStatementRuns)]
    [InlineData(Departure.EndSendingWhileAnEarlierReplyIsUnread)]
    public async Task A_statement_whose_client_leaves_is_cancelled(Departure departure)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var leaving = await RawProtocolClient.ConnectAsync(server, receiveBuffer: 4096);
        if (departure == Departure.CloseWhileAnEarlierStatementRuns)
        {
            await leaving.Query(Short).Query(Sleep).FlushAsync();
            await EngineProbe.StatementRunningAsync(server, Short);
            await EngineProbe.RunningAsync(server);
        }
        else if (departure == Departure.EndSendingWhileAnEarlierReplyIsUnread)
        {
            // The session holds the statement until the client has taken the earlier reply (it waits for nobody's engine meanwhile):
            // the client ends its sending side there, then reads what it was sent. Its statement must not run after that.
            await leaving.Query("select repeat('x', 8000000)").Query(Sleep).FlushAsync();
            await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Any(s => s.Activity.Current is { State: "active", Query: Sleep }),
                "the statement's unit started, behind the unread reply");
            leaving.EndSending();
            _ = leaving.ReadUntilClosedAsync(TimeSpan.FromSeconds(300)); // takes the reply, and whatever follows, until the server closes
        }
        else
        {
            await leaving.Query(Sleep).FlushAsync();
            if (departure != Departure.CloseRightAfterSending)
                await EngineProbe.StatementRunningAsync(server, Sleep);
        }

        if (departure == Departure.EndSendingWhileRunning)
            leaving.EndSending();
        else if (departure != Departure.EndSendingWhileAnEarlierReplyIsUnread)
            leaving.CloseWithoutTerminate();

        // Cancelled, not run to its end 300 s later: the departed client's session ends, and another client gets the engine.
        await Eventually.ValueAsync(() => Task.FromResult(server.Services.Registry.Sessions.Select(s => s.Activity.Current).ToList()),
            sessions => !sessions.Any(now => now?.Query == Sleep),
            sessions => $"the departed client's session still there: {string.Join("; ", sessions)}", TimeSpan.FromSeconds(30));
        await using var other = new NpgsqlConnection(server.GetConnectionString());
        await other.OpenAsync();
        await using var probe = new NpgsqlCommand("select 1", other) { CommandTimeout = 30 };
        Assert.Equal(1, await probe.ExecuteScalarAsync());
    }

    /// <summary>
    /// A client that writes its last statements and Terminate in one go and exits without reading has them run, as in Postgres:
    /// it left, it did not vanish. Before, the session ended at the Terminate (or at the closed connection) without running them.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Statements_sent_before_Terminate_run_though_the_connection_closes_at_once(bool extended)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString());
        await other.OpenAsync();
        await using (var create = new NpgsqlCommand("create table last_words (x int)", other))
            await create.ExecuteNonQueryAsync();

        var sessions = server.Services.Registry.Sessions.Count();
        await using var leaving = await RawProtocolClient.ConnectAsync(server);
        if (extended)
            leaving.Parse("", "insert into last_words values (1), (2)").Bind("", "").Execute().Sync();
        else
            leaving.Query("insert into last_words values (1); insert into last_words values (2)");
        await leaving.Terminate().FlushAsync();
        leaving.CloseWithoutTerminate(); // its Terminate is sent: the socket closes at once, nothing read

        // Counted once the leaving session has ended: a count asked meanwhile waits for the engine, and a departed client's
        // statement that others wait behind is held to 1 s (the test below), and under the suite's load the inserts once ran past it.
        await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Count() == sessions, "the leaving client's session ended");
        await using var count = new NpgsqlCommand("select count(*) from last_words", other);
        Assert.Equal(2L, await count.ExecuteScalarAsync());
    }

    /// <summary>
    /// What a client sent before its Terminate runs, but a statement of it still running once the client's connection has closed
    /// holds the others at most ~1 s (SessionCancel.DepartedBound), as Postgres with client_connection_check_interval ends it:
    /// before, issue 59's outside fuzzer's `select pg_sleep(3)` followed by a Terminate held its witness 3 s.
    /// </summary>
    [Fact]
    public async Task A_statement_before_Terminate_that_outlives_its_closed_connection_yields_to_waiting_clients()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var waiting = new NpgsqlConnection(server.GetConnectionString());
        await waiting.OpenAsync();
        await using var leaving = await RawProtocolClient.ConnectAsync(server);
        await leaving.Query(Sleep).Terminate().FlushAsync();
        await EngineProbe.StatementRunningAsync(server, Sleep);
        leaving.CloseWithoutTerminate(); // its Terminate is sent: the socket closes at once, nothing read

        // Queued behind it: answered once the departed client's statement has been cut, not 300 s later.
        await using var probe = new NpgsqlCommand("select 1", waiting) { CommandTimeout = 60 };
        Assert.Equal(1, await probe.ExecuteScalarAsync());
        await Eventually.WaitUntilAsync(() => !server.Services.Registry.Sessions.Any(s => s.Activity.Current?.Query == Sleep),
            "the departed client's session ended");
    }
}
