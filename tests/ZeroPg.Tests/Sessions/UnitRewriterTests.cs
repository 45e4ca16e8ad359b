using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

/// <summary>What the shared engine session is sent for a client's messages, and how its reply is to be read.</summary>
public sealed class UnitRewriterTests
{
    [Fact]
    public void Sql_level_statement_names_and_advisory_locks_are_made_per_client()
    {
        var parts = new SessionParts();
        parts.Query("PREPARE q AS SELECT 1; EXECUTE q").Build();
        Assert.Equal(["Q:PREPARE zp4242_q AS SELECT 1; EXECUTE zp4242_q"], parts.Sent());
        Assert.Equal("Forward:Q", parts.Plan());
    }

    [Fact]
    public void An_execute_of_a_copy_from_stdin_in_an_ordinary_unit_is_refused_before_the_engine_meets_it()
    {
        // The COPY path takes a Bind and Execute of a COPY FROM STDIN; one that reaches an ordinary unit (the acceptor's view of
        // the names was older than the build's) would leave PGlite waiting for data, and the next message would end it.
        var parts = new SessionParts();
        parts.Parse("c", "copy t from stdin").Bind("c").Execute().Parse("", "select 1").Sync().Build();
        Assert.Equal(["P:zp_1", "B:zp_1", "P:", "P:", "S:"], parts.Sent()); // a failing Parse stands for the refused Execute
        Assert.Contains(parts.Batch.Plan.Expectations, e => e is { Kind: ExpectKind.ReplaceError, Error.SqlState: "0A000" });
    }

    [Fact]
    public void Clients_parsing_the_same_statement_share_one_engine_statement()
    {
        var a = new SessionParts();
        a.Parse("s1", "select $1::int").Sync().Build();
        Assert.Equal(["P:zp_1", "S:"], a.Sent());

        var b = new SessionParts(a.Services, processId: 4343);
        b.Parse("other_name", "select $1::int").Bind("other_name").Execute().Sync().Build();
        Assert.Equal(["B:zp_1", "E:", "S:"], b.Sent()); // the engine holds it: ParseComplete is ZeroPg's own answer
        Assert.Equal("Synthesize:P,Forward:B,Forward:E,Forward:S", b.Plan());
    }

    [Fact]
    public void Unknown_and_duplicate_names_fail_where_postgres_raises_them()
    {
        var parts = new SessionParts();
        parts.Bind("nope").Execute().Sync().Build();
        Assert.Equal(["P:", "E:", "S:"], parts.Sent()); // a failing Parse stands for the error
        var raised = parts.Batch.Plan.Expectations[0];
        Assert.Equal((ExpectKind.ReplaceError, "26000"), (raised.Kind, raised.Error!.SqlState));

        parts.Client.Consume(parts.Client.Count);
        parts.Parse("s", "select 1").Parse("s", "select 2").Sync().Build();
        Assert.Equal("Forward:P,ReplaceError:P,Forward:S", parts.Plan());
        Assert.Equal("42P05", parts.Batch.Plan.Expectations[1].Error!.SqlState);
    }

    [Fact]
    public void A_pool_reset_alone_is_answered_for_the_client_only()
    {
        var parts = new SessionParts();
        parts.Query("DISCARD ALL").Build();
        Assert.Empty(parts.Sent());
        Assert.Equal("Synthesize:Q", parts.Plan());
        Assert.True(parts.Batch.Effects.DiscardAllAnswered);
    }

    [Fact]
    public void Copy_from_stdin_through_the_extended_protocol_is_parsed_in_the_engine()
    {
        var parts = new SessionParts();
        parts.Parse("", "copy t from stdin").Sync().Build();
        Assert.Equal(["P:", "S:"], parts.Sent());
        Assert.Equal("Forward:P,Forward:S", parts.Plan());
    }

    [Fact]
    public void A_repeated_query_runs_through_a_statement_prepared_once()
    {
        var parts = new SessionParts();
        parts.Query("select * from t where id = 5").Build();
        Assert.Equal(["Q:select * from t where id = 5"], parts.Sent());
        parts.Batch.Plan.Expectations[0].OnCompleted!(true); // it ran without error
        parts.Client.Consume(1);

        parts.Query("select * from t where id = 7").Build();
        Assert.Equal(["P:zp_auto_1", "B:zp_auto_1", "D:", "E:", "S:"], parts.Sent());
        Assert.Equal("Swallow:P,BindRetryable:B,DescribeForQuery:D,Forward:E,Forward:S", parts.Plan());
    }
}
