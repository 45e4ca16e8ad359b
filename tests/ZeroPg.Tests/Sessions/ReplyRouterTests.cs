using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Sessions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Matching an engine reply to the batch's messages: what reaches the client, what is dropped, answered or replaced.</summary>
public sealed class ReplyRouterTests
{
    private readonly ReplyRouter _router = new();
    private readonly ReplyPlan _plan = new();
    private readonly List<string> _routed = [];
    private readonly List<string> _outcomes = [];

    private static byte[] Msg(char code, params byte[] body) => RawProtocolClient.TypedMessage(code, body);

    private static byte[] Error(string sqlState)
    {
        var writer = new ArrayBufferWriter<byte>();
        ErrorResponse.Write(writer, PgError.Error(sqlState, "engine says no"));
        return writer.WrittenSpan.ToArray();
    }

    private static readonly byte[] ReadyIdle = Msg('Z', (byte)'I');

    private void Expect(ExpectKind kind, FrontendCode code, string name, byte[]? reply = null, PgError? error = null)
        => _plan.Add(new Expectation(kind, code, reply, error, ok => _outcomes.Add($"{name}:{ok}")));

    private void Feed(params byte[][] messages)
    {
        foreach (var message in messages)
            _router.OnMessage((BackendCode)message[0], message, (code, bytes) => _routed.Add(Describe(code, bytes)));
        _router.OnEnd((code, bytes) => _routed.Add(Describe(code, bytes)));
    }

    private static string Describe(BackendCode code, ReadOnlySpan<byte> message)
        => code == BackendCode.ErrorResponse ? "E" + ErrorResponse.ReadSqlState(message[5..]) : ((char)code).ToString();

    [Fact]
    public void A_forwarded_query_passes_whole_and_its_outcome_waits_for_the_session()
    {
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        Feed(Msg('T', 0, 0), Msg('D', 0, 0), Msg('C', 0), ReadyIdle);
        Assert.Equal(["T", "D", "C", "Z"], _routed);
        Assert.Empty(_outcomes); // recorded on the reader thread, applied by the session
        _plan.ApplyOutcomes();
        Assert.Equal(["q:True"], _outcomes);
        Assert.Equal(TransactionStatus.Idle, _router.LastStatus);
    }

    [Fact]
    public void Replies_to_injected_messages_are_dropped_and_synthesized_ones_come_in_their_turn()
    {
        Expect(ExpectKind.Swallow, FrontendCode.Parse, "reparse");
        Expect(ExpectKind.Synthesize, FrontendCode.Close, "close", reply: Msg('3'));
        Expect(ExpectKind.Forward, FrontendCode.Bind, "bind");
        Expect(ExpectKind.Forward, FrontendCode.Sync, "sync");
        _router.Begin(_plan);
        Feed(Msg('1'), Msg('2'), ReadyIdle);
        Assert.Equal(["3", "2", "Z"], _routed);
        _plan.ApplyOutcomes();
        Assert.Equal(["reparse:True", "bind:True", "sync:True"], _outcomes);
    }

    [Fact]
    public void An_error_zeropg_raised_in_the_engine_is_replaced_and_the_rest_is_skipped_to_sync()
    {
        Expect(ExpectKind.ReplaceError, FrontendCode.Parse, "raise", error: PgError.Error(SqlState.InvalidSqlStatementName, "prepared statement \"s\" does not exist"));
        Expect(ExpectKind.Forward, FrontendCode.Bind, "bind");
        Expect(ExpectKind.Forward, FrontendCode.Execute, "execute");
        Expect(ExpectKind.Forward, FrontendCode.Sync, "sync");
        _router.Begin(_plan);
        Feed(Error("42601"), ReadyIdle);
        Assert.Equal(["E26000", "Z"], _routed);
        _plan.ApplyOutcomes();
        Assert.Equal(["raise:False", "bind:False", "execute:False", "sync:True"], _outcomes);
    }

    [Fact]
    public void An_extended_error_skips_to_sync_even_across_engine_calls()
    {
        Expect(ExpectKind.Forward, FrontendCode.Bind, "bind");
        Expect(ExpectKind.Forward, FrontendCode.Flush, "flush");
        _router.Begin(_plan);
        Feed(Error("22P02"));
        Assert.Equal(["E22P02"], _routed);

        var next = new ReplyPlan();
        next.Add(new Expectation(ExpectKind.Forward, FrontendCode.Execute, OnCompleted: ok => _outcomes.Add($"execute:{ok}")));
        next.Add(new Expectation(ExpectKind.Forward, FrontendCode.Sync, OnCompleted: ok => _outcomes.Add($"sync:{ok}")));
        _router.Begin(next);
        Feed(ReadyIdle);
        Assert.Equal(["E22P02", "Z"], _routed);
        next.ApplyOutcomes();
        Assert.Equal(["execute:False", "sync:True"], _outcomes);
    }

    [Fact]
    public void An_auto_prepared_run_shows_the_client_its_query_reply_only()
    {
        Expect(ExpectKind.Swallow, FrontendCode.Parse, "parse");
        Expect(ExpectKind.BindRetryable, FrontendCode.Bind, "bind");
        Expect(ExpectKind.DescribeForQuery, FrontendCode.Describe, "describe");
        Expect(ExpectKind.Forward, FrontendCode.Execute, "execute");
        Expect(ExpectKind.Forward, FrontendCode.Sync, "sync");
        _router.Begin(_plan);
        Feed(Msg('1'), Msg('2'), Msg('T', 0, 0), Msg('D', 0, 0), Msg('C', 0), ReadyIdle);
        Assert.Equal(["T", "D", "C", "Z"], _routed);

        _routed.Clear();
        _router.Begin(_plan);
        Feed(Msg('1'), Msg('2'), Msg('n'), Msg('C', 0), ReadyIdle);
        Assert.Equal(["C", "Z"], _routed); // NoData is not part of a simple Query's reply
    }

    [Fact]
    public void A_stale_plan_makes_the_session_run_the_query_plain_and_the_client_sees_nothing_of_it()
    {
        Expect(ExpectKind.BindRetryable, FrontendCode.Bind, "bind");
        Expect(ExpectKind.DescribeForQuery, FrontendCode.Describe, "describe");
        Expect(ExpectKind.Forward, FrontendCode.Execute, "execute");
        Expect(ExpectKind.Forward, FrontendCode.Sync, "sync");
        _router.Begin(_plan);
        var notification = Msg('A', [0, 0, 0, 1, .. RawProtocolClient.CString("ch"), .. RawProtocolClient.CString("x")]);
        Feed(Error(SqlState.FeatureNotSupported), notification, ReadyIdle);
        Assert.True(_router.RetryPlain);
        Assert.Equal(["A"], _routed); // notifications are never lost
        Assert.Equal(TransactionStatus.Idle, _router.LastStatus);
        _plan.ApplyOutcomes();
        Assert.Contains("bind:False", _outcomes);
    }

    [Fact]
    public void The_preamble_is_swallowed_whole_but_for_notifications()
    {
        _plan.AddPreambleQuery();
        _plan.AddPreambleQuery();
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        var notification = Msg('A', [0, 0, 0, 1, .. RawProtocolClient.CString("ch"), .. RawProtocolClient.CString("x")]);
        var parameterStatus = Msg('S', [.. RawProtocolClient.CString("DateStyle"), .. RawProtocolClient.CString("German, DMY")]);
        Feed(Error("42704"), ReadyIdle, Msg('C', 0), parameterStatus, notification, Msg('Z', (byte)'T'), Msg('C', 0), Msg('Z', (byte)'T'));
        Assert.Equal(["A", "C", "Z"], _routed);
        Assert.Equal(TransactionStatus.InTransaction, _router.LastStatus);
    }

    [Fact]
    public void Messages_beyond_the_plan_are_passed_on_rather_than_lost()
    {
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        Feed(Msg('C', 0), ReadyIdle, Msg('N', 0));
        Assert.Equal(["C", "Z", "N"], _routed);
    }

    [Fact]
    public void A_guarded_preamble_that_fails_in_its_block_hides_the_rest_of_the_reply_from_the_client()
    {
        _plan.AddGuardedPreambleQuery();
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        Feed(Msg('C'), Msg('Z', (byte)'T'), Msg('C'), Error("57014"), Msg('Z', (byte)'E'), Error("25P02"), Msg('Z', (byte)'E'));
        Assert.Equal("57014", _router.PreambleFailure?.SqlState);
        Assert.Empty(_routed);
    }

    [Fact]
    public void A_guarded_preamble_that_fails_before_its_block_lets_the_reply_through_and_says_so()
    {
        _plan.AddGuardedPreambleQuery();
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        Feed(Error("57014"), ReadyIdle, Error("57014"), ReadyIdle, Msg('C'), ReadyIdle);
        Assert.Null(_router.PreambleFailure);
        Assert.Equal("57014", _router.PreambleFailedOutsideBlock?.SqlState);
        Assert.Equal(["C", "Z"], _routed);
    }

    [Fact]
    public void A_failed_plain_preamble_query_is_swallowed_as_before()
    {
        _plan.AddPreambleQuery();
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        Feed(Error("25006"), ReadyIdle, Msg('C'), ReadyIdle);
        Assert.Null(_router.PreambleFailure);
        Assert.Null(_router.PreambleFailedOutsideBlock);
        Assert.Equal(["C", "Z"], _routed);
        // ... but noted: its restore rolled back whole, so the session takes the engine's settings as unknown (EngineLink).
        Assert.True(_router.PreambleErred);
        _router.Begin(_plan);
        Feed(Msg('C'), ReadyIdle, Msg('C'), ReadyIdle);
        Assert.False(_router.PreambleErred);
    }

    [Fact]
    public void A_guarded_preamble_whose_lone_begin_took_a_cancel_still_restores_and_lets_the_reply_through()
    {
        _plan.AddGuardedPreambleQuery();
        Expect(ExpectKind.Forward, FrontendCode.Query, "q");
        _router.Begin(_plan);
        Feed(Error("57014"), ReadyIdle, Msg('C'), ReadyIdle, Msg('C'), ReadyIdle);
        Assert.Null(_router.PreambleFailure);
        Assert.Null(_router.PreambleFailedOutsideBlock);
        Assert.Equal(["C", "Z"], _routed);
    }
}
