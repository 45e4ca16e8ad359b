using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Copy;

/// <summary>
/// A server that cuts COPY data into pieces of 4 KB, so that a COPY of a few thousand rows runs as hundreds of engine
/// COPYs (the default, 4 MB, needs hundreds of MB for that), and ends a COPY stalled in a transaction block after 3 s.
/// </summary>
public sealed class SmallPieceServerFixture : ServerFixture
{
    public const int PieceBytes = 4096;

    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(3);

    protected override ZeroPgOptions Options() => new() { MaxConnections = 100, CopyPieceBytes = PieceBytes, CopyStallTimeout = StallTimeout };
}

/// <summary>psql's \copy, text and CSV with quoted newlines, byte-exact, with the data cut into many pieces.</summary>
public sealed class PsqlCopyInPiecesTests(SmallPieceServerFixture fixture) : PsqlCopyTests(fixture), IClassFixture<SmallPieceServerFixture>;

/// <summary>Npgsql's binary and text import, CopyFail, errors and transactions, with the data cut into many pieces.</summary>
public sealed class NpgsqlCopyInPiecesTests(SmallPieceServerFixture fixture) : NpgsqlCopyTests(fixture), IClassFixture<SmallPieceServerFixture>;

/// <summary>Concurrent binary imports, each cut into pieces, interleaved with queries.</summary>
public sealed class ConcurrentCopyInPiecesTests(SmallPieceServerFixture fixture) : ConcurrentCopyTests(fixture), IClassFixture<SmallPieceServerFixture>;
