using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

/// <summary>The engine session is brought to a client's state at the head of its own batch, and the shared engine state follows only when the batch is sent.</summary>
public sealed class EngineStateRestoreTests
{
    [Fact]
    public void Nothing_differs_nothing_is_prepended()
    {
        var parts = new SessionParts();
        parts.Query("select 1").Build();
        Assert.Equal(0, parts.Batch.Plan.PreambleQueries);
        Assert.Equal(["Q:select 1"], parts.Sent());
    }

    [Fact]
    public void Settings_that_differ_are_restored_first_and_the_engine_state_follows_when_the_batch_is_sent()
    {
        var parts = new SessionParts(startup: ("search_path", "app"));
        var engine = parts.Services.EngineState;
        engine.AppliedSettings = new(StringComparer.OrdinalIgnoreCase) { ["work_mem"] = "8MB" };
        parts.Query("select 1").Build();
        Assert.Equal(1, parts.Batch.Plan.PreambleQueries);
        Assert.Equal(["Q:RESET work_mem;SELECT pg_catalog.set_config('search_path', 'app', false);", "Q:select 1"], parts.Sent());
        Assert.True(engine.AppliedSettings.ContainsKey("work_mem")); // not sent yet

        parts.Batch.MarkSending();
        Assert.Equal(new Dictionary<string, string> { ["search_path"] = "app" }, engine.AppliedSettings.ToDictionary());
        parts.Build();
        Assert.Equal(0, parts.Batch.Plan.PreambleQueries); // restored once
    }

    [Fact]
    public void A_batch_built_and_dropped_changes_nothing()
    {
        var parts = new SessionParts(startup: ("search_path", "app"));
        parts.State.DeferBegin();
        parts.Query("select 1").Build();
        Assert.Equal(2, parts.Batch.Plan.PreambleQueries);
        parts.Batch.Clear();
        Assert.Empty(parts.Services.EngineState.AppliedSettings);
        Assert.Equal(TransactionState.BeginDeferred, parts.State.Transaction);
        parts.Build();
        Assert.Equal(2, parts.Batch.Plan.PreambleQueries);
    }

    [Fact]
    public void A_deferred_begin_goes_last_and_the_transaction_is_in_the_engine_once_sent()
    {
        var parts = new SessionParts();
        parts.State.DeferBegin();
        parts.Query("insert into t values (1)").Build();
        Assert.Equal(["Q:BEGIN", "Q:insert into t values (1)"], parts.Sent());
        parts.Batch.MarkSending();
        Assert.Equal(TransactionState.InBlock, parts.State.Transaction);
    }

    [Fact]
    public void Temp_relations_change_hands_by_renames_at_the_head_of_the_next_owners_batch()
    {
        var a = new SessionParts(processId: 1001);
        var b = new SessionParts(a.Services, processId: 1002);
        var engine = a.Services.EngineState;
        a.Temp.ApplyDiscovered([("orders", "r")], engine);
        b.Temp.ApplyDiscovered([("cart", "r")], engine); // discovered while b held the engine: b's carry their names
        Assert.Same(b.Temp, engine.TempOwner);

        a.Query("select * from orders").Build();
        Assert.Equal([
            "Q:ALTER TABLE IF EXISTS pg_temp.\"cart\" RENAME TO \"zp1002_cart\"",
            "Q:ALTER TABLE IF EXISTS pg_temp.\"zp1001_orders\" RENAME TO \"orders\"",
            "Q:select * from orders"], a.Sent());
        a.Batch.MarkSending();
        Assert.Same(a.Temp, engine.TempOwner);
        Assert.Equal("DROP TABLE IF EXISTS pg_temp.\"zp1002_cart\" CASCADE;", b.Temp.DropSql(engine));
    }
}
