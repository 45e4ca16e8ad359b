using ZeroPg.Replication;
using ZeroPg.Replication.PgOutput;

namespace ZeroPg.Tests.Replication;

/// <summary>Every expected byte string here was captured from native PostgreSQL 15.x (Debian postgresql-15,
/// wal_level=logical) with pg_logical_slot_peek_binary_changes(slot, NULL, NULL, 'proto_version', ...,
/// 'publication_names', ...), which returns exactly the pgoutput payload a walsender puts in XLogData.
/// The workload that produced them is in the comment above each test.</summary>
public class PgOutputEncoderTests
{
    private static string Hex(IPgOutputMessage m) => Convert.ToHexString(m.Encode()).ToLowerInvariant();
    private static TupleValue T(string s) => TupleValue.Text(s);
    private static TupleValue B(params byte[] b) => TupleValue.Binary(b);
    private static readonly TupleValue N = TupleValue.Null;

    // CREATE TYPE mood AS ENUM ('sad','happy'); CREATE TABLE t (id int PRIMARY KEY, name text, m mood);
    // INSERT INTO t VALUES (1,'a','happy'), (2,NULL,'sad');   -- xid 731
    [Fact]
    public void Begin_type_relation_inserts_commit_proto1_text()
    {
        Assert.Equal("420000000001537ea0000303e59019696d000002db",
            Hex(new BeginMessage(new Lsn(0x1537EA0), 0x303e59019696d, 731)));
        Assert.Equal("59000040017075626c6963006d6f6f6400", Hex(new TypeMessage(16385, "public", "mood")));
        Assert.Equal("52000040057075626c69630074006400030169640000000017ffffffff006e616d650000000019ffffffff006d0000004001ffffffff",
            Hex(new RelationMessage(16389, "public", "t", ReplicaIdentity.Default,
                [new(true, "id", 23, -1), new(false, "name", 25, -1), new(false, "m", 16385, -1)])));
        Assert.Equal("49000040054e000374000000013174000000016174000000056861707079",
            Hex(new InsertMessage(16389, [T("1"), T("a"), T("happy")])));
        Assert.Equal("49000040054e00037400000001326e7400000003736164",
            Hex(new InsertMessage(16389, [T("2"), N, T("sad")])));
        Assert.Equal("43000000000001537ea00000000001537ed0000303e59019696d",
            Hex(new CommitMessage(new Lsn(0x1537EA0), new Lsn(0x1537ED0), 0x303e59019696d)));
    }

    // Same transaction with 'binary' 'true': int4 via int4send, text/enum via their send functions.
    [Fact]
    public void Insert_binary_values()
    {
        Assert.Equal("49000040054e000362000000040000000162000000016162000000056861707079",
            Hex(new InsertMessage(16389, [B(0, 0, 0, 1), B((byte)'a'), B("happy"u8.ToArray())])));
    }

    // UPDATE t SET name='b' WHERE id=1 (no key change: no old tuple);
    // UPDATE t SET id=3 WHERE id=2 (key change: 'K' with key columns, others 'n');
    // DELETE FROM t WHERE id=1 ('K').
    [Fact]
    public void Update_and_delete_with_default_identity()
    {
        Assert.Equal("55000040054e000374000000013174000000016274000000056861707079",
            Hex(new UpdateMessage(16389, OldTupleKind.None, null, [T("1"), T("b"), T("happy")])));
        Assert.Equal("55000040054b00037400000001326e6e4e00037400000001336e7400000003736164",
            Hex(new UpdateMessage(16389, OldTupleKind.Key, [T("2"), N, N], [T("3"), N, T("sad")])));
        Assert.Equal("44000040054b00037400000001316e6e",
            Hex(new DeleteMessage(16389, OldTupleKind.Key, [T("1"), N, N])));
        Assert.Equal("55000040054b00036200000004000000026e6e4e00036200000004000000036e6200000003736164",
            Hex(new UpdateMessage(16389, OldTupleKind.Key, [B(0, 0, 0, 2), N, N], [B(0, 0, 0, 3), N, B("sad"u8.ToArray())])));
    }

    // CREATE TABLE f (id int, v text); ALTER TABLE f REPLICA IDENTITY FULL;
    // INSERT INTO f VALUES (1,'x'); UPDATE f SET v='y'; DELETE FROM f;
    [Fact]
    public void Replica_identity_full_flags_every_column_and_sends_old_rows()
    {
        Assert.Equal("520000400c7075626c69630066006600020169640000000017ffffffff01760000000019ffffffff",
            Hex(new RelationMessage(16396, "public", "f", ReplicaIdentity.Full, [new(true, "id", 23, -1), new(true, "v", 25, -1)])));
        Assert.Equal("550000400c4f00027400000001317400000001784e0002740000000131740000000179",
            Hex(new UpdateMessage(16396, OldTupleKind.Old, [T("1"), T("x")], [T("1"), T("y")])));
        Assert.Equal("440000400c4f0002740000000131740000000179",
            Hex(new DeleteMessage(16396, OldTupleKind.Old, [T("1"), T("y")])));
    }

    // CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int REFERENCES p);
    // TRUNCATE p, c RESTART IDENTITY CASCADE;
    [Fact]
    public void Truncate_with_cascade_and_restart_identity()
    {
        Assert.Equal("52000040167075626c69630063006400010069640000000017ffffffff",
            Hex(new RelationMessage(16406, "public", "c", ReplicaIdentity.Default, [new(false, "id", 23, -1)])));
        Assert.Equal("5400000002030000401100004016",
            Hex(new TruncateMessage(TruncateOptions.Cascade | TruncateOptions.RestartIdentity, [16401, 16406])));
    }

    // SELECT pg_logical_emit_message(true,'pfx','hello'); SELECT pg_logical_emit_message(false,'pfx2','nontx');
    [Fact]
    public void Logical_messages_transactional_and_not()
    {
        Assert.Equal("4d010000000001538b98706678000000000568656c6c6f",
            Hex(new LogicalMessage(true, new Lsn(0x1538B98), "pfx", "hello"u8.ToArray())));
        Assert.Equal("4d000000000001538c087066783200000000056e6f6e7478",
            Hex(new LogicalMessage(false, new Lsn(0x1538C08), "pfx2", "nontx"u8.ToArray())));
    }

    // CREATE SCHEMA s; CREATE TABLE s.toasty (id int PRIMARY KEY, v varchar(10), doc text) with doc
    // stored EXTERNAL; INSERT ... repeat('z',3000); UPDATE s.toasty SET v='def' -> doc is unchanged TOAST ('u').
    [Fact]
    public void Schema_typmod_and_unchanged_toast()
    {
        Assert.Equal("52000040347300746f61737479006400030169640000000017ffffffff007600000004130000000e00646f630000000019ffffffff",
            Hex(new RelationMessage(16436, "s", "toasty", ReplicaIdentity.Default,
                [new(true, "id", 23, -1), new(false, "v", 1043, 14), new(false, "doc", 25, -1)])));
        Assert.Equal("55000040344e0003740000000131740000000364656675",
            Hex(new UpdateMessage(16436, OldTupleKind.None, null, [T("1"), T("def"), TupleValue.UnchangedToast])));
    }

    // pg_replication_origin_session_setup('orig1'); pg_replication_origin_xact_setup('0/ABCDEF', ...); INSERT; COMMIT.
    [Fact]
    public void Origin_message()
    {
        Assert.Equal("4f0000000000abcdef6f7269673100", Hex(new OriginMessage(new Lsn(0xABCDEF), "orig1")));
        Assert.Equal("4200000000015e93800002ea470ae86000000002ec",
            Hex(new BeginMessage(new Lsn(0x15E9380), 0x2ea470ae86000, 748)));
    }

    // proto_version 2, streaming on, logical_decoding_work_mem=64kB:
    // BEGIN; INSERT 1491 rows; SAVEPOINT; INSERT; ROLLBACK TO; COMMIT (xid 744) and a streamed ROLLBACK (xid 746).
    [Fact]
    public void Streaming_messages_proto2()
    {
        Assert.Equal("53000002e801", Hex(new StreamStartMessage(744, true)));
        Assert.Equal("53000002e800", Hex(new StreamStartMessage(744, false)));
        Assert.Equal("45", Hex(StreamStopMessage.Instance));
        Assert.Equal("52000002e8000040267075626c696300626967006400020169640000000017ffffffff007061640000000019ffffffff",
            Hex(new RelationMessage(16422, "public", "big", ReplicaIdentity.Default,
                [new(true, "id", 23, -1), new(false, "pad", 25, -1)], StreamXid: 744)));
        Assert.StartsWith("49000002e8000040264e0002740000000231307400000064787878",
            Hex(new InsertMessage(16422, [T("10"), T(new string('x', 100))], StreamXid: 744)));
        Assert.Equal("63000002e8000000000001595c180000000001595c48000303e590c4552f",
            Hex(new StreamCommitMessage(744, new Lsn(0x1595C18), new Lsn(0x1595C48), 0x303e590c4552f)));
        Assert.Equal("41000002ea000002ea", Hex(new StreamAbortMessage(746, 746)));
    }

    // proto_version 3, two_phase slot: BEGIN; INSERT; PREPARE TRANSACTION 'gx1'; COMMIT PREPARED 'gx1';
    // then 'gx2' rolled back.
    [Fact]
    public void Two_phase_messages_proto3()
    {
        Assert.Equal("6200000000015432f000000000015433e8000303e590c40fb1000002e667783100",
            Hex(new BeginPrepareMessage(new Lsn(0x15432F0), new Lsn(0x15433E8), 0x303e590c40fb1, 742, "gx1")));
        Assert.Equal("500000000000015432f000000000015433e8000303e590c40fb1000002e667783100",
            Hex(new PrepareMessage(new Lsn(0x15432F0), new Lsn(0x15433E8), 0x303e590c40fb1, 742, "gx1")));
        Assert.Equal("4b0000000000015433e80000000001543420000303e590c41eb6000002e667783100",
            Hex(new CommitPreparedMessage(new Lsn(0x15433E8), new Lsn(0x1543420), 0x303e590c41eb6, 742, "gx1")));
        Assert.Equal("7200000000000154359800000000015435d0000303e590c4376d000303e590c43de1000002e767783200",
            Hex(new RollbackPreparedMessage(new Lsn(0x1543598), new Lsn(0x15435D0), 0x303e590c4376d, 0x303e590c43de1, 743, "gx2")));
    }

    // Protocol 4 (PG16+, not in PG 15): parallel streaming adds abort LSN and time to Stream Abort,
    // and a streamed two-phase prepare uses 'p' with Prepare's layout. Checked against proto.c's layout.
    [Fact]
    public void Proto4_stream_abort_and_stream_prepare_layout()
    {
        Assert.Equal("41000002ea000002eb00000000015e9098000303e590c4552f",
            Hex(new StreamAbortMessage(746, 747, new Lsn(0x15E9098), 0x303e590c4552f)));
        Assert.Equal("700000000000015432f000000000015433e8000303e590c40fb1000002e667783100",
            Hex(new PrepareMessage(new Lsn(0x15432F0), new Lsn(0x15433E8), 0x303e590c40fb1, 742, "gx1", Streamed: true)));
    }

    [Fact]
    public void Catalog_namespace_is_sent_empty()
    {
        Assert.Equal("5900000019" + "00" + "7465787400", Hex(new TypeMessage(25, "pg_catalog", "text")));
    }

    [Fact]
    public void Commit_time_is_microseconds_since_2000()
    {
        Assert.Equal(0L, PgTimestamp.FromDateTime(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc)));
        var t = new DateTime(2026, 11, 23, 0, 37, 0, DateTimeKind.Utc);
        Assert.Equal(t, PgTimestamp.ToDateTime(PgTimestamp.FromDateTime(t)));
    }
}
