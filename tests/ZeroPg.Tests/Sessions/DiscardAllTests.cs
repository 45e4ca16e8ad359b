using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>A pool's reset (DISCARD ALL / DEALLOCATE ALL) from one client must not break other clients' prepared statements.</summary>
[Collection(ServerCollection.Name)]
public sealed class DiscardAllTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("DISCARD ALL")]
    [InlineData("DEALLOCATE ALL")]
    public async Task Another_clients_reset_leaves_my_prepared_statements_working(string reset)
    {
        var sql = $"select 'shared:' || $1::text /* {reset} */";
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);
        RawStatementNameTests.AssertOk(await a.Parse("mine", sql).Sync().RoundTripAsync());
        RawStatementNameTests.AssertOk(await b.Parse("theirs", sql).Sync().RoundTripAsync());
        Assert.Equal("shared:1", RawStatementNameTests.Single(await a.Bind("", "mine", "1").Execute().Sync().RoundTripAsync()));

        RawStatementNameTests.AssertOk(await b.Query(reset).RoundTripAsync());

        Assert.Equal("shared:2", RawStatementNameTests.Single(await a.Bind("", "mine", "2").Execute().Sync().RoundTripAsync()));
        // The resetting client's own statements are gone, as in Postgres, and it can prepare the name again.
        Assert.Equal("26000", RawStatementNameTests.Error(await b.Bind("", "theirs", "3").Execute().Sync().RoundTripAsync()));
        RawStatementNameTests.AssertOk(await b.Parse("theirs", sql).Sync().RoundTripAsync());
        Assert.Equal("shared:4", RawStatementNameTests.Single(await b.Bind("", "theirs", "4").Execute().Sync().RoundTripAsync()));
        Assert.Equal("shared:5", RawStatementNameTests.Single(await a.Bind("", "mine", "5").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task A_discard_all_that_fails_inside_a_transaction_leaves_every_statement_in_place()
    {
        const string sql = "select 'kept:' || $1::text /* failed discard */";
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);
        RawStatementNameTests.AssertOk(await a.Parse("mine", sql).Sync().RoundTripAsync());
        RawStatementNameTests.AssertOk(await b.Parse("theirs", sql).Sync().RoundTripAsync());

        RawStatementNameTests.AssertOk(await b.Query("begin").RoundTripAsync());
        Assert.Equal("25001", RawStatementNameTests.Error(await b.Query("discard all").RoundTripAsync()));
        RawStatementNameTests.AssertOk(await b.Query("rollback").RoundTripAsync());

        // Postgres kept both statements: so must ZeroPg (the engine's copy is prepared again without a 42P05).
        Assert.Equal("kept:1", RawStatementNameTests.Single(await a.Bind("", "mine", "1").Execute().Sync().RoundTripAsync()));
        Assert.Equal("kept:2", RawStatementNameTests.Single(await b.Bind("", "theirs", "2").Execute().Sync().RoundTripAsync()));
    }

    [Theory]
    [InlineData("DISCARD ALL")]
    [InlineData("DEALLOCATE ALL")]
    public async Task A_reset_run_through_the_extended_protocol_leaves_other_clients_statements_working(string reset)
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await using var mine = new NpgsqlCommand($"select $1::int * 2 /* ext {reset} */", a);
        mine.Parameters.AddWithValue(1);
        await mine.PrepareAsync();
        await using var theirs = new NpgsqlCommand($"select $1::int * 2 /* ext {reset} */", b);
        theirs.Parameters.AddWithValue(2);
        await theirs.PrepareAsync();
        Assert.Equal(2, (int)(await mine.ExecuteScalarAsync())!);

        // Npgsql sends every command as Parse/Bind/Execute, so the reset runs through the extended protocol.
        await using (var command = new NpgsqlCommand(reset, b))
            await command.ExecuteNonQueryAsync();

        for (var i = 0; i < 3; i++)
        {
            mine.Parameters[0].Value = i;
            Assert.Equal(i * 2, (int)(await mine.ExecuteScalarAsync())!);
        }
        // The resetting connection's own statement is gone, exactly as Postgres would have it (Npgsql does not track this)...
        Assert.Equal("26000", (await Assert.ThrowsAsync<PostgresException>(() => theirs.ExecuteScalarAsync())).SqlState);
        // ...and preparing again works.
        await using var again = new NpgsqlCommand($"select $1::int * 3 /* ext {reset} */", b);
        again.Parameters.AddWithValue(5);
        await again.PrepareAsync();
        Assert.Equal(15, (int)(await again.ExecuteScalarAsync())!);
        mine.Parameters[0].Value = 21;
        Assert.Equal(42, (int)(await mine.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Npgsql_prepared_command_survives_a_pooled_connection_sending_discard_all()
    {
        await using var kept = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select $1::int + 1", kept);
        command.Parameters.AddWithValue(1);
        await command.PrepareAsync();
        Assert.Equal(2, (int)(await command.ExecuteScalarAsync())!);

        // A pooled connection without prepared statements is reset with DISCARD ALL when reused.
        var builder = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Pooling = true, MaxPoolSize = 1, ApplicationName = $"discard-{Guid.NewGuid():N}" };
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        for (var i = 0; i < 5; i++)
        {
            await using (var pooled = await dataSource.OpenConnectionAsync())
            {
                await using var unprepared = new NpgsqlCommand("select $1::int + 1", pooled);
                unprepared.Parameters.AddWithValue(i);
                Assert.Equal(i + 1, (int)(await unprepared.ExecuteScalarAsync())!);
            }
            command.Parameters[0].Value = i * 10;
            Assert.Equal(i * 10 + 1, (int)(await command.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task A_pooled_reset_in_front_of_a_batch_resets_the_settings_before_the_batch_runs()
    {
        // Npgsql writes DISCARD ALL in front of the first batch of a connection taken again from its pool.
        string defaultPath;
        await using (var fresh = await fixture.OpenAsync())
            defaultPath = await fresh.TextAsync("SHOW search_path");
        Assert.NotEqual("pg_catalog", defaultPath);
        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString + ";Pooling=true;Maximum Pool Size=1;Application Name=discard-settings");
        await using (var first = await dataSource.OpenConnectionAsync())
        {
            await first.ScalarAsync("SET search_path = pg_catalog");
            await first.ScalarAsync("SET statement_timeout = '42s'");
            Assert.Equal("42s", await first.TextAsync("SHOW statement_timeout"));
        }
        await using var again = await dataSource.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(again)
        {
            BatchCommands = { new("SHOW statement_timeout"), new("SHOW search_path") },
        };
        await using var reader = await batch.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("0", reader.GetString(0));
        Assert.True(await reader.NextResultAsync() && await reader.ReadAsync());
        Assert.Equal(defaultPath, reader.GetString(0));
    }
}
