using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using ZeroPg.Protocol;

namespace ZeroPg.Server;

/// <summary>
/// Before the ready line, the server runs a few thousand trivial statements through its own port, as a client would
/// (<see cref="LoopbackSession"/>: Kestrel's transport, the session, the scheduler, the engine host, PGlite), alternating the
/// simple and the extended protocol. A fresh server otherwise runs its first seconds in unoptimized code on both sides
/// (.NET tier 0 and ReadyToRun code, PGlite's WebAssembly in Liftoff) while both runtimes compile the optimized code on the
/// same two cores: the first 5,000 statements' p99 was 4-10x native Postgres's (bench/findings/starts.md, "The first
/// seconds"). The statements read nothing and write nothing; the session ends before the ready line, taking what it
/// prepared with it, so a client sees no trace of it.
/// </summary>
internal static class StartWarmUp
{
    private static readonly byte[] SimpleQuery = WireClient.Typed(FrontendCode.Query, "SELECT 1\0"u8);
    private static readonly byte[] ExtendedQuery = Extended("SELECT $1::int4", 1);

    /// <summary>
    /// Runs statements until both runtimes have settled (<see cref="TieringSettle"/>), <paramref name="statements"/> at most, for
    /// at most <paramref name="limit"/>.
    /// </summary>
    public static async Task<WarmUpResult> RunAsync(string host, int port, string user, string? password, string database, int statements, TimeSpan limit, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var session = await LoopbackSession.OpenAsync(host, port, user, password, database, cancellationToken);
        var methodsAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        var settle = new TieringSettle(methodsAtStart, TimeSpan.Zero);
        var i = 0;
        while (i < statements && Stopwatch.GetElapsedTime(started) is var elapsed && elapsed < limit)
        {
            await session.ExchangeAsync(i % 2 == 0 ? SimpleQuery : ExtendedQuery, cancellationToken);
            i++;
            if (settle.Observe(i, System.Runtime.JitInfo.GetCompiledMethodCount(), Stopwatch.GetElapsedTime(started)))
                return new WarmUpResult(i, Settled: true, System.Runtime.JitInfo.GetCompiledMethodCount() - methodsAtStart);
        }
        return new WarmUpResult(i, Settled: false, System.Runtime.JitInfo.GetCompiledMethodCount() - methodsAtStart);
    }

    /// <summary>Parse (unnamed), Bind one text parameter, Describe the portal, Execute, Sync: what Npgsql sends per statement.</summary>
    private static byte[] Extended(string sql, int value)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        var parse = WireClient.Typed(FrontendCode.Parse, [0, .. text, 0, 0, 1, .. Int32(23)]);
        var parameter = Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var bind = WireClient.Typed(FrontendCode.Bind, [0, 0, 0, 0, 0, 1, .. Int32(parameter.Length), .. parameter, 0, 0]);
        var describe = WireClient.Typed(FrontendCode.Describe, [(byte)'P', 0]);
        var execute = WireClient.Typed(FrontendCode.Execute, [0, .. Int32(0)]);
        var sync = WireClient.Typed(FrontendCode.Sync, []);
        return [.. parse, .. bind, .. describe, .. execute, .. sync];
    }

    private static byte[] Int32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }
}

/// <summary>What a warm-up did: statements run, whether it ended because both runtimes had settled (else a limit ended it), and
/// how many methods .NET compiled meanwhile.</summary>
internal readonly record struct WarmUpResult(int Statements, bool Settled, long MethodsCompiled);
