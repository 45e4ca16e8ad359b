using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// An error in an extended-query sequence whose Sync has not come: Postgres ignores the client's messages up to that Sync.
/// Outside a transaction block ZeroPg ends the engine's side of the sequence at once and ignores the messages itself, so a
/// client that errs and then sends nothing (a hostile one, or one that stalls) does not keep the shared engine from the
/// others; what the client sees is compared with native PostgreSQL 15 message for message.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FailedSequenceTests(ServerFixture fixture, NativePostgres native) : IClassFixture<NativePostgres>
{
    [Fact]
    public async Task Outside_a_block_the_engine_serves_others_before_the_failed_sequence_s_Sync_and_the_client_still_skips_to_it()
    {
        var expected = await SkippedSequenceAsync(await RawProtocolClient.ConnectAsync("127.0.0.1", native.Port), whileUnsynced: () => Task.CompletedTask);
        var seen = await SkippedSequenceAsync(await RawProtocolClient.ConnectAsync(fixture.Server), whileUnsynced: async () =>
        {
            // Before, this waited for the first client's Sync, which does not come until it is answered.
            await using var other = await fixture.OpenAsync();
            Assert.Equal(42, await other.ScalarAsync("SELECT 42").WaitAsync(TimeSpan.FromSeconds(60)));
        });
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task A_failed_sequence_that_began_a_block_keeps_the_engine_until_its_rollback()
    {
        var expected = await FailedBlockAsync(await RawProtocolClient.ConnectAsync("127.0.0.1", native.Port), null);
        var seen = await FailedBlockAsync(await RawProtocolClient.ConnectAsync(fixture.Server), fixture.Server);
        Assert.Equal(expected, seen);
    }

    private async Task<string> SkippedSequenceAsync(RawProtocolClient client, Func<Task> whileUnsynced)
    {
        await using var _ = client;
        var replies = new List<RawProtocolClient.Message>();
        replies.AddRange(await client.Parse("", "SELECT 1/0").Bind("", "").Execute().Flush().RoundTripUntilAsync('E'));
        await whileUnsynced();
        // Ignored up to the Sync, the Query too: only the Sync's ReadyForQuery comes back.
        replies.AddRange(await client.Parse("", "SELECT 2").Bind("", "").Execute().Query("SELECT 3").Sync().RoundTripAsync());
        replies.AddRange(await client.Query("SELECT 4").RoundTripAsync());
        return Describe(replies);
    }

    private static async Task<string> FailedBlockAsync(RawProtocolClient client, ZeroPgServer? server)
    {
        await using var _ = client;
        Npgsql.NpgsqlConnection? connection = null;
        if (server is not null)
        {
            connection = new Npgsql.NpgsqlConnection(server.GetConnectionString());
            await connection.OpenAsync(); // before the block: opening reads the engine's types
        }
        var replies = new List<RawProtocolClient.Message>();
        replies.AddRange(await client.Parse("", "BEGIN").Bind("", "").Execute().Parse("", "SELECT 1/0").Bind("", "").Execute().Flush().RoundTripUntilAsync('E'));
        Task<object?>? other = null;
        if (server is not null)
        {
            other = connection!.ScalarAsync("SELECT 42");
            await Eventually.QueuedAsync(server); // the failed block holds the engine
            Assert.False(other.IsCompleted);
        }
        replies.AddRange(await client.Sync().RoundTripAsync()); // ReadyForQuery 'E'
        replies.AddRange(await client.Query("ROLLBACK").RoundTripAsync());
        if (other is not null)
        {
            Assert.Equal(42, await other.WaitAsync(TimeSpan.FromSeconds(60)));
            await connection!.DisposeAsync();
        }
        return Describe(replies);
    }

    // Kinds, SQLSTATEs and ReadyForQuery statuses: what a client acts on.
    private static string Describe(IEnumerable<RawProtocolClient.Message> replies)
        => string.Join(" ", replies.Select(m => m.Code switch
        {
            'E' => $"E:{m.SqlState}",
            'Z' => $"Z:{(char)m.Body[0]}",
            'D' => $"D:{string.Join(',', m.Columns())}",
            _ => m.Code.ToString(),
        }));
}
