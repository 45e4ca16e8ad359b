namespace ZeroPg.Fuzz;

public sealed class FuzzOptions
{
    public int Seed { get; set; } = 1;

    /// <summary>Fuzz connections at once (the witness is one more).</summary>
    public int Clients { get; set; } = 4;

    /// <summary>Stop after this many frontend messages (startup packets included); 0 for no count limit.</summary>
    public long MaxMessages { get; set; }

    /// <summary>Stop after this long; zero for no time limit.</summary>
    public TimeSpan Duration { get; set; }

    /// <summary>The witness's SELECT 1 must be answered within this.</summary>
    public TimeSpan WitnessBound { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a case's connection waits on a silent server before giving up (a lying length leaves it waiting).</summary>
    public TimeSpan CaseQuiet { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Send every COPY-mode shape once (<see cref="CaseGenerator.CopySweepCases"/>) before the random cases.</summary>
    public bool CopySweep { get; set; } = true;

    /// <summary>Progress lines every this long (null: none).</summary>
    public TimeSpan? ProgressEvery { get; set; }

    public void Validate()
    {
        if (Clients < 1)
            throw new ArgumentException("Clients must be at least 1");
        if (MaxMessages <= 0 && Duration <= TimeSpan.Zero)
            throw new ArgumentException("give MaxMessages or Duration, or both");
        if (WitnessBound <= TimeSpan.Zero || CaseQuiet <= TimeSpan.Zero)
            throw new ArgumentException("WitnessBound and CaseQuiet must be positive");
    }
}
