namespace ZeroPg.Server;

/// <summary>
/// When a start's warm-up (<see cref="StartWarmUp"/>) has done what it can: both runtimes have compiled the statement path's
/// optimized code. .NET has settled when its JIT compiled at most <see cref="SettledNewMethods"/> methods over a whole
/// <see cref="Window"/> (the process-wide count: an application that hosts the library and compiles its own code meanwhile
/// keeps the warm-up running to its limit). The window is longer than .NET's call-counting delay (100 ms after the last new
/// tier-0 method; the tier-1 and instrumented rounds follow on a background thread), so the pause before a round is not taken
/// for the end. V8 tiers PGlite's functions up by a budget each call spends, so its side follows the number of statements:
/// <see cref="MinStatements"/> (bench/findings/first-seconds.md).
/// </summary>
internal sealed class TieringSettle(long methods, TimeSpan at)
{
    public const int MinStatements = 1500;
    public const int SettledNewMethods = 2;
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);

    private long _windowMethods = methods;
    private TimeSpan _windowStart = at;

    /// <summary>After each statement: true once settled.</summary>
    public bool Observe(int statements, long methods, TimeSpan at)
    {
        if (at - _windowStart < Window)
            return false;
        if (statements >= MinStatements && methods - _windowMethods <= SettledNewMethods)
            return true;
        _windowStart = at;
        _windowMethods = methods;
        return false;
    }
}
