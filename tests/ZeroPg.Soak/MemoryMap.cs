using System.Globalization;

namespace ZeroPg.Soak;

/// <summary>
/// Where an engine host's resident memory is, from /proc/PID/smaps. V8 reserves a WebAssembly memory (an engine's heap) with
/// guard regions of gigabytes: the part grown so far is a read-write mapping with a no-access mapping of 4 GB or more beside
/// it. A resizable ArrayBuffer (MEMFS files past 4 MB: engine-host/memfs-growth.mjs) has a smaller reservation beside it
/// (256 MB to 4 GB). malloc's heap and arenas ([heap], and the workers' 64 MB-aligned arenas) and V8's JavaScript heaps
/// and code are the other anonymous mappings; node and its libraries the file mappings. Which one grows over an engine
/// host's life says what leaks.
/// </summary>
public static class MemoryMap
{
    public sealed record Breakdown(long WasmMb, long ReservedBuffersMb, long MallocHeapMb, long OtherAnonymousMb, long FilesMb);

    private sealed record Mapping(long Start, long End, bool NoAccess, bool File, string Name)
    {
        public long RssKb { get; set; }
    }

    public static Breakdown Read(int pid)
    {
        var mappings = new List<Mapping>();
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
            {
                var dash = line.IndexOf('-');
                var space = line.IndexOf(' ');
                if (dash > 0 && space > dash && IsHex(line.AsSpan(0, dash)) && IsHex(line.AsSpan(dash + 1, space - dash - 1)))
                {
                    // "start-end perms offset dev inode [path]": a new mapping
                    var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                    mappings.Add(new Mapping(long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                        long.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                        fields[1].StartsWith("---", StringComparison.Ordinal), fields.Length > 5 && fields[5].StartsWith('/'), fields.Length > 5 ? fields[5].Trim() : ""));
                }
                else if (line.StartsWith("Rss:", StringComparison.Ordinal) && mappings.Count > 0)
                {
                    mappings[^1].RssKb = long.Parse(line.AsSpan(4).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        long wasm = 0, buffers = 0, malloc = 0, anonymous = 0, files = 0;
        for (var i = 0; i < mappings.Count; i++)
        {
            var m = mappings[i];
            if (m.File)
            {
                files += m.RssKb;
                continue;
            }
            var reserved = Math.Max(Reservation(mappings, i - 1, m.Start, before: true), Reservation(mappings, i + 1, m.End, before: false));
            if (reserved >= 4L << 30)
                wasm += m.RssKb;
            else if (reserved >= 256L << 20)
                buffers += m.RssKb;
            else if (m.Name == "[heap]" || (m.Start & ((64L << 20) - 1)) == 0)
                malloc += m.RssKb; // the main arena, and the threads' arenas (64 MB-aligned)
            else
                anonymous += m.RssKb;
        }
        return new Breakdown(wasm >> 10, buffers >> 10, malloc >> 10, anonymous >> 10, files >> 10);
    }

    /// <summary>The size of the no-access anonymous mapping at <paramref name="index"/> when it touches <paramref name="edge"/>, else 0.</summary>
    private static long Reservation(List<Mapping> mappings, int index, long edge, bool before)
    {
        if (index < 0 || index >= mappings.Count)
            return 0;
        var n = mappings[index];
        return n.NoAccess && !n.File && (before ? n.End == edge : n.Start == edge) ? n.End - n.Start : 0;
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
                return false;
        }
        return text.Length > 0;
    }
}
