using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Units that leave the engine as they found it are sent behind another client's unit still running.
/// Every client must still get exactly its own answers, see its own temp tables and settings.
/// </summary>
public sealed class PipeliningTests
{
    private const int Clients = 6;
    private const int Rounds = 150;

    [Fact]
    public async Task Concurrent_clients_get_their_own_answers_while_units_are_pipelined()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var group = await ClientGroup.ConnectAsync(server, Clients);
        var clients = group.Clients;
        await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                var reply = await client.Query($"select {c}, {i}, pg_backend_pid() > 0").RoundTripAsync();
                var row = reply.Single(m => m.Code == 'D').Columns();
                Assert.Equal(new string?[] { c.ToString(), i.ToString(), "t" }, row);
                Assert.Equal('I', (char)reply[^1].Body[0]);
            }
        })));
        Assert.True(server.Metrics.PipelinedUnits > 0, "no unit was pipelined: the engine was never handed on before a reply");
    }

    [Fact]
    public async Task Reads_of_clients_that_each_have_temp_tables_and_settings_see_their_own()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var names = new[] { "alpha", "beta", "gamma" };
        await using var group = await ClientGroup.ConnectAsync(server, names.Length);
        var clients = group.Clients;
        for (var c = 0; c < names.Length; c++)
        {
            await clients[c].Query($"create temp table mine (v text); insert into mine values ('{names[c]}')").RoundTripAsync();
            await clients[c].Query($"set application_name = '{names[c]}'").RoundTripAsync();
        }
        await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                var reply = await client.Query("select v, current_setting('application_name') from mine").RoundTripAsync();
                Assert.Equal(new string?[] { names[c], names[c] }, reply.Single(m => m.Code == 'D').Columns());
            }
        })));
        // Whether any of these units was pipelined depends on the timing: a switch between these clients restores state (renames,
        // a setting) in a guarded preamble, which is not pipelined (its failure leaves a block aborted that a unit queued behind it
        // would meet: Sessions/README.md); a client's unit right after its own is. What must hold is what each read sees.
    }

    [Fact]
    public async Task Transactions_whose_COMMIT_or_ROLLBACK_is_pipelined_stay_atomic_and_isolated()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var group = await ClientGroup.ConnectAsync(server, Clients);
        var clients = group.Clients;
        await clients[0].Query("create table ledger (id int primary key, total int); insert into ledger values (1, 0); create table moves (client int, n int)").RoundTripAsync();
        await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            for (var i = 0; i < Rounds / 3; i++)
            {
                await client.Query("BEGIN").RoundTripAsync();
                await client.Query("update ledger set total = total + 1 where id = 1").RoundTripAsync();
                var seen = await client.Query($"insert into moves values ({c}, {i}) returning (select total from ledger)").RoundTripAsync();
                Assert.Equal('T', (char)seen[^1].Body[0]);
                var end = await client.Query(i % 3 == 2 ? "ROLLBACK" : "COMMIT").RoundTripAsync();
                Assert.Equal('I', (char)end[^1].Body[0]);
            }
        })));
        var committedPerClient = Enumerable.Range(0, Rounds / 3).Count(i => i % 3 != 2);
        var check = await clients[0].Query("select (select total from ledger), (select count(*) from moves), (select count(distinct (client, n)) from moves)").RoundTripAsync();
        var expected = (committedPerClient * Clients).ToString();
        Assert.Equal(new string?[] { expected, expected, expected }, check.Single(m => m.Code == 'D').Columns());
        Assert.True(server.Metrics.PipelinedUnits > 0, "no COMMIT or ROLLBACK was pipelined");
    }

    [Fact]
    public async Task Npgsql_commands_in_the_extended_protocol_are_pipelined_and_routed_to_their_own_connection()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var connectionString = server.GetConnectionString() + ";Pooling=false";
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var prepared = new NpgsqlCommand("select @c::int * 1000 + @i::int", connection);
            prepared.Parameters.AddWithValue("c", 0);
            prepared.Parameters.AddWithValue("i", 0);
            if (c % 2 == 0)
                await prepared.PrepareAsync(); // named statements for half the clients, unnamed for the others
            for (var i = 0; i < Rounds; i++)
            {
                prepared.Parameters["c"].Value = c;
                prepared.Parameters["i"].Value = i;
                Assert.Equal(c * 1000 + i, (int)(await prepared.ExecuteScalarAsync())!);
            }
        })));
        Assert.True(server.Metrics.PipelinedUnits > 0, "no extended-protocol unit was pipelined");
    }

    /// <summary>Raw clients connected together and disposed together.</summary>
    private sealed class ClientGroup(RawProtocolClient[] clients) : IAsyncDisposable
    {
        public RawProtocolClient[] Clients { get; } = clients;

        public static async Task<ClientGroup> ConnectAsync(ZeroPgServer server, int count)
            => new(await Task.WhenAll(Enumerable.Range(0, count).Select(_ => RawProtocolClient.ConnectAsync(server))));

        public async ValueTask DisposeAsync()
        {
            foreach (var client in Clients)
                await client.DisposeAsync();
        }
    }
}
