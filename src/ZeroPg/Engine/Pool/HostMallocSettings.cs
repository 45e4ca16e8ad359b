using System.Diagnostics;

namespace ZeroPg.Engine.Pool;

/// <summary>
/// glibc malloc's settings for the shared engine host's Node (environment variables: other C libraries ignore them, so this
/// is the one place they live). A setting the server's own environment already has wins.
/// </summary>
internal static class HostMallocSettings
{
    // glibc's malloc arenas per thread keep memory a stopped worker gave back; two arenas lowered the host's floor after
    // workers stopped by 10-25% (bench/engines/FINDINGS.md).
    private const string ArenaMax = "2";

    // glibc raises its mmap threshold to the largest block freed (up to 32 MB), after which a start's large temporary blocks
    // (the data directory's tar, PGlite's copies, V8's compile zones) come from the arenas, where what is freed stays in RSS
    // between live blocks. A fixed 64 KB keeps them in mappings of their own that go back to the system when freed:
    // one idle memory:// engine 183 -> 171 MB host RSS (bench/findings/memory.md).
    private const string Tunables = "glibc.malloc.mmap_threshold=65536";

    public static void Apply(ProcessStartInfo startInfo)
    {
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            startInfo.Environment["MALLOC_ARENA_MAX"] = ArenaMax;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is null && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            startInfo.Environment["GLIBC_TUNABLES"] = Tunables;
    }
}
