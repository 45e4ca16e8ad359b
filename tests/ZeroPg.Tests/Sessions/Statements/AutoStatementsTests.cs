using System.Text;
using ZeroPg.Sessions.Statements;

namespace ZeroPg.Tests.Sessions.Statements;

public sealed class AutoStatementsTests
{
    private readonly AutoStatements _auto = new StatementCatalog(autoPrepareCapacity: 2).Auto;

    private static string Names(byte[][] names) => string.Join(",", names.Select(Encoding.UTF8.GetString));

    [Fact]
    public void A_text_is_prepared_the_second_time_after_a_plain_run_without_error()
    {
        Assert.Null(_auto.Find("k1", "select $1::int4"));
        _auto.RanOnce("k1");
        var statement = _auto.Find("k1", "select $1::int4");
        Assert.NotNull(statement);
        Assert.Equal("select $1::int4", statement.Text);
        Assert.Same(statement, _auto.Find("k1", "select $1::int4"));
    }

    [Fact]
    public void Beyond_capacity_the_least_recently_used_is_closed()
    {
        foreach (var key in new[] { "a", "b", "c" })
            _auto.RanOnce(key);
        var a = _auto.Find("a", "select 1")!;
        var b = _auto.Find("b", "select 2")!;
        _auto.Find("a", "select 1"); // a used again: b is now the oldest
        var c = _auto.Find("c", "select 3")!;
        Assert.Equal(b.EngineName, Names(_auto.TakeClosings()));
        Assert.Same(a, _auto.Find("a", "select 1"));
        Assert.Same(c, _auto.Find("c", "select 3"));
        Assert.Empty(_auto.TakeClosings());
    }

    [Fact]
    public void A_refused_text_is_not_prepared_again_until_the_schema_changes()
    {
        _auto.RanOnce("k");
        var statement = _auto.Find("k", "select 1")!;
        _auto.Refuse("k");
        Assert.Equal(statement.EngineName, Names(_auto.TakeClosings()));
        _auto.RanOnce("k");
        Assert.Null(_auto.Find("k", "select 1"));
        _auto.Invalidate();
        _auto.RanOnce("k");
        Assert.NotNull(_auto.Find("k", "select 1"));
    }

    [Fact]
    public void A_dropped_statement_is_closed_and_prepared_afresh_next_time()
    {
        _auto.RanOnce("k");
        var first = _auto.Find("k", "select 1")!;
        _auto.Drop("k");
        Assert.Equal(first.EngineName, Names(_auto.TakeClosings()));
        var second = _auto.Find("k", "select 1")!;
        Assert.NotEqual(first.EngineName, second.EngineName);
    }

    [Fact]
    public void A_schema_change_closes_everything_and_forgets_what_ran()
    {
        _auto.RanOnce("a");
        _auto.RanOnce("b");
        var a = _auto.Find("a", "select 1")!;
        var b = _auto.Find("b", "select 2")!;
        _auto.Invalidate();
        Assert.Equal($"{a.EngineName},{b.EngineName}", Names(_auto.TakeClosings()));
        Assert.Null(_auto.Find("a", "select 1")); // must run plain once again
    }
}
