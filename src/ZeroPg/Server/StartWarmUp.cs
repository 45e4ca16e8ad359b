using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using ZeroPg.Protocol;

namespace ZeroPg.Server;

/// <summary>
/// Before the ready line, the server runs trivial statements through its own port, as a client would
/// (<see cref="LoopbackSession"/>: Kestrel's transport, the session, the scheduler, the engine host, PGlite), alternating the
/// simple and the extended protocol. A fresh server otherwise runs its first seconds in unoptimized code on both sides
/// (.NET tier 0 and ReadyToRun code, PGlite's WebAssembly in Liftoff) while both runtimes compile the optimized code on the
/// same two cores (~2,000 .NET tier-up compiles after a start): the first 5,000 statements' p99 was 5-13x native Postgres's,
/// their CPU ~4x the next 5,000's (bench/findings/first-seconds.md). It runs until that has settled (<see cref="TieringSettle"/>).
/// The statements read nothing and write nothing; the session ends before the ready line, taking what it
/// prepared with it, so a client sees no trace of it.
/// </summary>
internal static class StartWarmUp
{
    private static readonly byte[] SimpleQuery = WireClient.Typed(FrontendCode.Query, "SELECT 1\0"u8);
    private static readonly byte[] ExtendedQuery = Extended("SELECT $1::int4", 1);

    /// <summary>
    /// Runs statements until both runtimes have settled (<see cref="TieringSettle"/>), <paramref name="statements"/> at most, for
    /// at most <paramref name="limit"/>, or until <paramref name="clientArrived"/>: a client that connected before the ready line
    /// then has the engine to itself (it warms the server up as much), instead of taking turns with the warm-up's statements.
    /// </summary>
    public static async Task<WarmUpResult> RunAsync(string host, int port, string user, string? password, string database, int statements, TimeSpan limit, Func<bool> clientArrived, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await using var session = await LoopbackSession.OpenAsync(host, port, user, password, database, cancellationToken);
        var methodsAtStart = System.Runtime.JitInfo.GetCompiledMethodCount();
        var settle = new TieringSettle(methodsAtStart, TimeSpan.Zero);
        var i = 0;
        var end = WarmUpEnd.Limit;
        while (i < statements && Stopwatch.GetElapsedTime(started) < limit)
        {
            if (clientArrived())
            {
                end = WarmUpEnd.Client;
                break;
            }
            await session.ExchangeAsync(i % 2 == 0 ? SimpleQuery : ExtendedQuery, cancellationToken);
            i++;
            if (settle.Observe(i, System.Runtime.JitInfo.GetCompiledMethodCount(), Stopwatch.GetElapsedTime(started)))
            {
                end = WarmUpEnd.Settled;
                break;
            }
        }
        return new WarmUpResult(i, end, System.Runtime.JitInfo.GetCompiledMethodCount() - methodsAtStart, session.ProcessId);
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

/// <summary>What a warm-up did: statements run, what ended it, how many methods .NET compiled meanwhile, and its session's
/// process id (the server's <see cref="Sessions.Activity.SessionRegistry"/> key).</summary>
internal readonly record struct WarmUpResult(int Statements, WarmUpEnd End, long MethodsCompiled, int ProcessId);

internal enum WarmUpEnd
{
    /// <summary>Its statement count or its time limit.</summary>
    Limit,
    /// <summary>Both runtimes had settled.</summary>
    Settled,
    /// <summary>A client connected.</summary>
    Client,
}
