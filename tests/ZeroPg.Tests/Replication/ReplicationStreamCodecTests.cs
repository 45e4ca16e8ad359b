using ZeroPg.Replication;
using ZeroPg.Replication.PgOutput;
using ZeroPg.Replication.Stream;

namespace ZeroPg.Tests.Replication;

/// <summary>CopyData payloads captured from a byte-logging TCP proxy between pg_recvlogical 15
/// (-o proto_version=1 -o publication_names=pub -s 2 -F 1) and a native PostgreSQL 15 walsender, after
/// INSERT INTO t VALUES (43,'w','sad').</summary>
public class ReplicationStreamCodecTests
{
    private static byte[] H(string hex) => Convert.FromHexString(hex);
    private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();

    [Fact]
    public void XLogData_frames_match_the_walsender()
    {
        // Begin: XLogData start and end both the transaction's first LSN (PG 15's WalSndWriteData writes the
        // write position twice).
        var begin = new BeginMessage(new Lsn(0x163F6E0), 0x303e5aa85d11f, 0x300).Encode();
        Assert.Equal("77000000000163f658000000000163f658000303e5aa87b5f242000000000163f6e0000303e5aa85d11f00000300",
            Hex(new XLogData(new Lsn(0x163F658), new Lsn(0x163F658), 0x303e5aa87b5f2, begin).Encode()));

        // Relation/Type go out with 0/0 in both positions.
        var relation = new RelationMessage(16389, "public", "t", ReplicaIdentity.Default,
            [new(true, "id", 23, -1), new(false, "name", 25, -1), new(false, "m", 16385, -1)]).Encode();
        Assert.Equal("7700000000000000000000000000000000000303e5aa87b63652000040057075626c69630074006400030169640000000017ffffffff006e616d650000000019ffffffff006d0000004001ffffffff",
            Hex(new XLogData(Lsn.Invalid, Lsn.Invalid, 0x303e5aa87b636, relation).Encode()));

        // Commit: the XLogData position is the end LSN.
        var commit = new CommitMessage(new Lsn(0x163F6E0), new Lsn(0x163F710), 0x303e5aa85d11f).Encode();
        Assert.Equal("77000000000163f710000000000163f710000303e5aa87b6474300000000000163f6e0000000000163f710000303e5aa85d11f",
            Hex(new XLogData(new Lsn(0x163F710), new Lsn(0x163F710), 0x303e5aa87b647, commit).Encode()));
    }

    [Fact]
    public void XLogData_parses_back_to_header_and_payload()
    {
        var frame = H("77000000000163f658000000000163f658000303e5aa87b64449000040054e0003740000000234337400000001777400000003736164");
        Assert.True(XLogData.TryParse(frame, out var x));
        Assert.Equal((new Lsn(0x163F658), new Lsn(0x163F658), 0x303e5aa87b644L), (x.Start, x.WalEnd, x.SendTime));
        Assert.Equal(Hex(new InsertMessage(16389, [TupleValue.Text("43"), TupleValue.Text("w"), TupleValue.Text("sad")]).Encode()),
            Hex(x.Payload.ToArray()));
        Assert.False(XLogData.TryParse(frame.AsMemory(0, 24), out _));
        Assert.False(XLogData.TryParse(H("6b000000000163f710000303e5aa87b65500"), out _));
    }

    [Theory]
    [InlineData("6b000000000163f710000303e5aa87b65500", false)]
    [InlineData("6b000000000163f710000303e5aaa64fa401", true)]
    public void Keepalive_matches_the_walsender(string hex, bool replyRequested)
    {
        Assert.True(PrimaryKeepalive.TryParse(H(hex), out var k));
        Assert.Equal(new Lsn(0x163F710), k.WalEnd);
        Assert.Equal(replyRequested, k.ReplyRequested);
        Assert.Equal(hex, Hex(k.Encode()));
        Assert.False(PrimaryKeepalive.TryParse(H(hex)[..17], out _));
    }

    [Fact]
    public void Standby_status_update_from_pg_recvlogical()
    {
        // written = flushed = the Commit's end LSN, applied 0/0 (pg_recvlogical does not report apply).
        var bytes = H("72000000000163f710000000000163f7100000000000000000000303e5aaa660bd00");
        Assert.True(StandbyStatusUpdate.TryParse(bytes, out var r));
        Assert.Equal((new Lsn(0x163F710), new Lsn(0x163F710), Lsn.Invalid, false), (r.Written, r.Flushed, r.Applied, r.ReplyRequested));
        Assert.Equal(0x303e5aaa660bdL, r.ClientTime);
        Assert.Equal(Hex(bytes), Hex(r.Encode()));
        Assert.True(StandbyStatusUpdate.TryParse(H("72000000000000000000000000000000000000000000000000000303e5aa87b9d500"), out var first));
        Assert.Equal(Lsn.Invalid, first.Flushed);
        Assert.False(StandbyStatusUpdate.TryParse(bytes.AsSpan(0, 33), out _));
        Assert.False(StandbyStatusUpdate.TryParse(H("68") , out _));
    }

    [Fact]
    public void Hot_standby_feedback_layout()
    {
        var bytes = H("68" + "000303e5aaa660bd" + "000002e8" + "00000000" + "000002e7" + "00000001");
        Assert.True(HotStandbyFeedback.TryParse(bytes, out var h));
        Assert.Equal((0x303e5aaa660bdL, 744u, 0u, 743u, 1u), (h.ClientTime, h.Xmin, h.XminEpoch, h.CatalogXmin, h.CatalogXminEpoch));
        Assert.False(HotStandbyFeedback.TryParse(bytes.AsSpan(0, 20), out _));
    }
}
