using ZeroPg.Server;

namespace ZeroPg.Tests.Server;

/// <summary>
/// When the start's warm-up ends on its own: after enough statements for V8 and a whole window in which .NET compiled
/// (almost) nothing; a pause shorter than the window (.NET's call-counting delay between its rounds) is not the end.
/// </summary>
public sealed class TieringSettleTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Settles_after_a_whole_quiet_window_once_enough_statements_ran()
    {
        var settle = new TieringSettle(methods: 1000, Ms(0));
        Assert.False(settle.Observe(TieringSettle.MinStatements, 1001, Ms(100))); // quiet, but the window is not over
        Assert.True(settle.Observe(TieringSettle.MinStatements, 1002, TieringSettle.Window));
    }

    [Fact]
    public void Compiles_within_a_window_keep_it_running()
    {
        var settle = new TieringSettle(methods: 1000, Ms(0));
        Assert.False(settle.Observe(TieringSettle.MinStatements, 1040, TieringSettle.Window)); // a tier-1 round
        Assert.False(settle.Observe(TieringSettle.MinStatements + 10, 1041, TieringSettle.Window + Ms(100)));
        Assert.True(settle.Observe(TieringSettle.MinStatements + 20, 1041, TieringSettle.Window * 2));
    }

    [Fact]
    public void Too_few_statements_for_V8_keep_it_running_though_dotnet_is_quiet()
    {
        var settle = new TieringSettle(methods: 1000, Ms(0));
        Assert.False(settle.Observe(TieringSettle.MinStatements - 1, 1000, TieringSettle.Window * 4));
        Assert.True(settle.Observe(TieringSettle.MinStatements, 1000, TieringSettle.Window * 5));
    }
}
