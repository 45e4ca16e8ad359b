using ZeroPg.Protocol;
using ZeroPg.Replication;
using ZeroPg.Replication.Walsender;

namespace ZeroPg.Tests.Replication;

/// <summary>The command texts are the ones real clients send (pg_recvlogical 15, Npgsql 10, PG's
/// logical replication worker, zero-cache) plus the grammar's other forms from repl_gram.y.</summary>
public class WalsenderGrammarTests
{
    private static T Parse<T>(string text) where T : ReplicationCommand => Assert.IsType<T>(ReplicationCommandParser.Parse(text));

    private static PgError Fails(string text) => Assert.Throws<PgErrorException>(() => ReplicationCommandParser.Parse(text)).Error;

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select pg_catalog.set_config('search_path', '', false);")]
    [InlineData("  SHOWX foo")]
    [InlineData("")]
    public void Plain_sql_is_not_a_replication_command(string sql) => Assert.Null(ReplicationCommandParser.Parse(sql));

    [Fact]
    public void Identify_system_and_show()
    {
        Parse<IdentifySystemCommand>("IDENTIFY_SYSTEM");
        Parse<IdentifySystemCommand>("identify_system;");
        Assert.Equal("data_directory_mode", Parse<ShowCommand>("SHOW data_directory_mode").Name);
        Assert.Equal("wal_segment_size", Parse<ShowCommand>("SHOW \"wal_segment_size\"").Name);
        Assert.Equal("a.b", Parse<ShowCommand>("show A.b").Name);
    }

    [Fact]
    public void Create_slot_pg15_parenthesized_syntax_as_pg_recvlogical_and_npgsql_send_it()
    {
        var c = Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT \"sl\" LOGICAL \"pgoutput\" (SNAPSHOT 'nothing')");
        Assert.Equal(("sl", ReplicationKind.Logical, "pgoutput", SnapshotAction.Nothing, false), (c.SlotName, c.Kind, c.Plugin, c.Snapshot, c.Temporary));

        c = Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT zero_1 TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export', TWO_PHASE true, FAILOVER)");
        Assert.True(c.Temporary);
        Assert.Equal(SnapshotAction.Export, c.Snapshot);
        Assert.True(c.TwoPhase);
        Assert.True(c.Failover);

        c = Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT s LOGICAL pgoutput (snapshot 'use', two_phase 'off')");
        Assert.Equal(SnapshotAction.Use, c.Snapshot);
        Assert.False(c.TwoPhase);

        c = Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT \"Mixed\"\"Case\" LOGICAL pgoutput");
        Assert.Equal("Mixed\"Case", c.SlotName);
        Assert.Equal(SnapshotAction.Export, c.Snapshot);
    }

    [Fact]
    public void Create_slot_legacy_keywords()
    {
        Assert.Equal(SnapshotAction.Nothing, Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT s LOGICAL pgoutput NOEXPORT_SNAPSHOT").Snapshot);
        Assert.Equal(SnapshotAction.Use, Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT s LOGICAL pgoutput USE_SNAPSHOT").Snapshot);
        var c = Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT s TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT TWO_PHASE");
        Assert.True(c.TwoPhase);
        Assert.Equal(SnapshotAction.Export, c.Snapshot);
        Assert.True(Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT p PHYSICAL RESERVE_WAL").ReserveWal);
    }

    [Theory]
    [InlineData("CREATE_REPLICATION_SLOT s LOGICAL pgoutput (SNAPSHOT 'maybe')", "unrecognized value for CREATE_REPLICATION_SLOT option \"snapshot\": \"maybe\"")]
    [InlineData("CREATE_REPLICATION_SLOT s LOGICAL pgoutput (SNAPSHOT 'use', SNAPSHOT 'use')", "conflicting or redundant options")]
    [InlineData("CREATE_REPLICATION_SLOT s LOGICAL pgoutput (TWO_PHASE 'perhaps')", "two_phase requires a Boolean value")]
    [InlineData("CREATE_REPLICATION_SLOT s LOGICAL pgoutput (bogus)", "unrecognized option: bogus")]
    [InlineData("CREATE_REPLICATION_SLOT s LOGICAL", "syntax error")]
    [InlineData("CREATE_REPLICATION_SLOT s SIDEWAYS pgoutput", "syntax error")]
    [InlineData("CREATE_REPLICATION_SLOT 's' LOGICAL pgoutput", "syntax error")]
    [InlineData("CREATE_REPLICATION_SLOT \"\" LOGICAL pgoutput", "zero-length delimited identifier")]
    [InlineData("CREATE_REPLICATION_SLOT \"s LOGICAL pgoutput", "unterminated quoted identifier")]
    [InlineData("START_REPLICATION SLOT s LOGICAL 0/0 (\"proto_version\" '1)", "unterminated quoted string")]
    [InlineData("START_REPLICATION SLOT s LOGICAL 0/0 extra", "syntax error")]
    [InlineData("START_REPLICATION SLOT s LOGICAL 123456789/0", "invalid streaming start location")]
    [InlineData("DROP_REPLICATION_SLOT", "syntax error")]
    public void Bad_commands_raise_postgres_errors(string text, string message)
    {
        var e = Fails(text);
        Assert.Equal("ERROR", e.Severity);
        Assert.Equal(message, e.Message);
        Assert.Equal("42601", e.SqlState);
    }

    [Fact]
    public void Start_replication_logical_with_options_as_the_subscriber_sends_them()
    {
        var s = Parse<StartReplicationCommand>(
            "START_REPLICATION SLOT \"sub1\" LOGICAL 0/15450D0 (proto_version '4', streaming 'parallel', origin 'any', publication_names '\"pub\",\"Other\"', binary 'true', messages)");
        Assert.Equal(ReplicationKind.Logical, s.Kind);
        Assert.Equal("sub1", s.SlotName);
        Assert.Equal(new Lsn(0x15450D0), s.StartLsn);
        Assert.Equal(
            [new("proto_version", "4"), new("streaming", "parallel"), new("origin", "any"),
             new("publication_names", "\"pub\",\"Other\""), new("binary", "true"), new KeyValuePair<string, string?>("messages", null)],
            s.Options);

        s = Parse<StartReplicationCommand>("START_REPLICATION SLOT s LOGICAL 16/B374D848");
        Assert.Equal(0x16B374D848UL, s.StartLsn.Value);
        Assert.Empty(s.Options);
        Assert.Equal("16/B374D848", s.StartLsn.ToString());
    }

    [Fact]
    public void Physical_start_replication_parses_and_is_refused_with_postgres_errors()
    {
        var s = Parse<StartReplicationCommand>("START_REPLICATION SLOT phys PHYSICAL 0/3000000 TIMELINE 1");
        Assert.Equal((ReplicationKind.Physical, (uint?)1), (s.Kind, s.Timeline));
        Assert.Equal(ReplicationKind.Physical, Parse<StartReplicationCommand>("START_REPLICATION 0/0").Kind);

        var logicalSlot = ReplicationRefusals.Check(s, _ => ReplicationKind.Logical)!;
        Assert.Equal(("55000", "cannot use a logical replication slot for physical replication"), (logicalSlot.SqlState, logicalSlot.Message));
        var noSlot = ReplicationRefusals.Check(Parse<StartReplicationCommand>("START_REPLICATION 0/0"))!;
        Assert.Equal("0A000", noSlot.SqlState);
        Assert.NotNull(noSlot.Hint);
        Assert.Equal("0A000", ReplicationRefusals.Check(Parse<CreateReplicationSlotCommand>("CREATE_REPLICATION_SLOT p PHYSICAL"))!.SqlState);
        Assert.Equal("BASE_BACKUP is not supported", ReplicationRefusals.Check(ReplicationCommandParser.Parse("BASE_BACKUP (LABEL 'x')")!)!.Message);
        Assert.Null(ReplicationRefusals.Check(Parse<StartReplicationCommand>("START_REPLICATION SLOT s LOGICAL 0/0")));
    }

    [Fact]
    public void Drop_alter_read_slot()
    {
        Assert.Equal(("s", true), (Parse<DropReplicationSlotCommand>("DROP_REPLICATION_SLOT s WAIT").SlotName, Parse<DropReplicationSlotCommand>("DROP_REPLICATION_SLOT s WAIT").Wait));
        Assert.False(Parse<DropReplicationSlotCommand>("drop_replication_slot \"s\";").Wait);
        var a = Parse<AlterReplicationSlotCommand>("ALTER_REPLICATION_SLOT s (FAILOVER false, TWO_PHASE)");
        Assert.Equal((false, true), (a.Failover, a.TwoPhase));
        Assert.Equal("conflicting or redundant options", Fails("ALTER_REPLICATION_SLOT s (FAILOVER, FAILOVER off)").Message);
        Assert.Equal("syntax error", Fails("ALTER_REPLICATION_SLOT s").Message);
        Assert.Equal("slot_1", Parse<ReadReplicationSlotCommand>("READ_REPLICATION_SLOT slot_1").SlotName);
        Assert.Equal(3u, Parse<TimelineHistoryCommand>("TIMELINE_HISTORY 3").Timeline);
    }

    [Theory]
    [InlineData("0/0", 0UL)]
    [InlineData("0/15450D0", 0x15450D0UL)]
    [InlineData("FFFFFFFF/FFFFFFFF", ulong.MaxValue)]
    public void Lsn_round_trips(string text, ulong value)
    {
        Assert.True(Lsn.TryParse(text, out var lsn));
        Assert.Equal(value, lsn.Value);
        Assert.Equal(text, lsn.ToString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("/0")]
    [InlineData("123456789/0")]
    [InlineData("0/G")]
    public void Lsn_rejects_malformed(string text) => Assert.False(Lsn.TryParse(text, out _));
}
