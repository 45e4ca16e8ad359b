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

    // glibc raises its mmap threshold to the largest block freed (up to 32 MB), after which a start's temporary blocks (V8's
    // compile zones and module decoding, PGlite's copies) come from the arenas, where what is freed stays resident between
    // live blocks (a malloc_trim gave 13 MB of an idle host back). A fixed 16 KB puts every larger block in a mapping of its
    // own that goes back to the system when freed: an idle memory:// host 183 -> ~163 MB RSS. Under select-only load
    // that is ~8 mmap/munmap pairs a second (strace), none per transaction (bench/findings/memory.md).
    private const string Tunables = "glibc.malloc.mmap_threshold=16384";

    public static void Apply(ProcessStartInfo startInfo)
    {
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            startInfo.Environment["MALLOC_ARENA_MAX"] = ArenaMax;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is null && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            startInfo.Environment["GLIBC_TUNABLES"] = Tunables;
    }
}
