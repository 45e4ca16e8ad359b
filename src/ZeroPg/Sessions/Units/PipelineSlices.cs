namespace ZeroPg.Sessions;

/// <summary>
/// How many units of a client's pipeline go to the engine in one call. A call is never split: the engine runs all its units
/// before anyone else's batch, and a client that left is noticed only between calls. So a slice starts at one unit and
/// doubles while calls are quick (up to <see cref="Most"/>: a pipeline of cheap statements pays a few more calls at its start),
/// and falls back to one unit after a call that kept the engine <see cref="SlowCall"/> or longer: a flood of thousands of
/// ANALYZEs holds the engine one statement at a time, not 32 (a minute), and stops one statement after its client left.
/// Thread: the session's.
/// </summary>
internal sealed class PipelineSlices
{
    public const int Most = 32;

    /// <summary>Engine time of a call past which the next one takes a single unit.</summary>
    public static readonly TimeSpan SlowCall = TimeSpan.FromMilliseconds(20);

    public int Next { get; private set; } = 1;

    /// <summary>A slice's calls kept the engine <paramref name="engineTime"/>.</summary>
    public void Ran(TimeSpan engineTime) => Next = engineTime >= SlowCall ? 1 : Math.Min(Most, Next * 2);
}
