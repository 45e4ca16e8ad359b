using System.Diagnostics;

namespace ZeroPg.Engine.Pool;

/// <summary>
/// glibc malloc's settings for the shared engine host's Node (environment variables: other C libraries ignore them, so this
/// is the one place they live). A setting the server's own environment already has wins. The host also hands its free heap
/// pages back itself, with glibc's malloc_trim (engine-host/malloc-trim.mjs), which no environment variable can ask for.
/// </summary>
internal static class HostMallocSettings
{
    // glibc's malloc arenas per thread keep memory a stopped worker gave back; two arenas lowered the host's floor after
    // workers stopped by 10-25% (bench/engines/FINDINGS.md).
    private const string ArenaMax = "2";

    // glibc raises its mmap threshold to the largest block freed (up to 32 MB), after which a start's temporary
    // blocks (module decoding, PGlite's copies) come from the arenas, where what is freed stays resident between live
    // blocks (a malloc_trim gave 13 MB of an idle host back). A fixed threshold puts every larger block in a mapping of
    // its own that goes back to the system when freed. 40 KB and not lower: V8's compile zones grow in 32 KB segments,
    // and under a 16 KB threshold each was an mmap and a munmap (2,260 in one `pgbench -i -s 1`, on V8's compile
    // threads; why they cost the engine so much, TLB shootdowns or page faults, was not measured): `pgbench -i -s 1`
    // took 1.70-1.96 s against 1.05-1.30 at 40 KB, 1.01-1.22 at 64 KB and 0.79-0.88 before any fixed threshold
    // (interleaved, 2026-11-30). 40 KB costs an idle memory:// server 10-20 MB more than 16 KB (bench/findings/memory.md).
    private const string Tunables = "glibc.malloc.mmap_threshold=40960";

    public static void Apply(ProcessStartInfo startInfo)
    {
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            startInfo.Environment["MALLOC_ARENA_MAX"] = ArenaMax;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is null && Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            startInfo.Environment["GLIBC_TUNABLES"] = Tunables;
    }
}
