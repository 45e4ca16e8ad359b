using System.Globalization;

namespace ZeroPg.Fuzz;

/// <summary>
/// Names one case: the run's seed, the fuzz client and the case's number on it. A case is made from its id alone,
/// so <c>--replay 7:2:1043</c> sends the very bytes that case sent.
/// </summary>
public readonly record struct FuzzCaseId(int Seed, int Client, long Index)
{
    /// <summary>The client number of the COPY-mode sweep's cases (<see cref="CaseGenerator.CopySweepCases"/>): index N is the Nth shape.</summary>
    public const int CopySweep = -1;

    public override string ToString() => $"{Seed}:{Client}:{Index}";

    public static FuzzCaseId Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3)
            throw new FormatException($"a case id is seed:client:index, not '{text}'");
        return new FuzzCaseId(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture),
            long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>The case's own generator: a stable mix of the three numbers (not string.GetHashCode, which varies per process).</summary>
    internal Random NewRandom()
    {
        var mixed = unchecked((ulong)Seed * 0x9E3779B97F4A7C15UL ^ (ulong)Client * 0xC2B2AE3D27D4EB4FUL ^ (ulong)Index * 0x165667B19E3779F9UL);
        mixed ^= mixed >> 29;
        return new Random(unchecked((int)mixed ^ (int)(mixed >> 32)));
    }
}
