using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>Replication commands typed into psql on replication connections, with their results and errors.</summary>
[Collection(ServerCollection.Name)]
public class WalsenderCommandTests(ServerFixture fixture)
{
    private Task<ExternalTool.Result> Psql(string replication, params string[] commands)
    {
        var arguments = new List<string> { "-X", "-A", "-t", "-v", "ON_ERROR_STOP=0", "-d",
            $"dbname=postgres replication={replication} host={fixture.Server.Host} port={fixture.Server.Port} user=postgres" };
        foreach (var command in commands)
            arguments.AddRange(["-c", command]);
        return ExternalTool.RunAsync("psql", arguments);
    }

    [Fact]
    public async Task Identify_system_show_and_slot_commands()
    {
        var r = await Psql("database", "IDENTIFY_SYSTEM", "SHOW wal_level", "SHOW data_directory_mode",
            "CREATE_REPLICATION_SLOT cmd_slot LOGICAL pgoutput (SNAPSHOT 'nothing')",
            "CREATE_REPLICATION_SLOT cmd_slot LOGICAL pgoutput NOEXPORT_SNAPSHOT",
            "SELECT slot_name, plugin FROM zeropg_repl.slots WHERE slot_name = 'cmd_slot'",
            "DROP_REPLICATION_SLOT cmd_slot", "DROP_REPLICATION_SLOT cmd_slot");
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\d+\|1\|[0-9A-F]+/[0-9A-F]+\|postgres$", lines[0]);
        Assert.Equal("logical", lines[1]);
        Assert.Matches(@"^cmd_slot\|[0-9A-F]+/[0-9A-F]+\|\|pgoutput$", lines[3]);
        Assert.Contains("cmd_slot|pgoutput", lines);
        Assert.Contains("replication slot \"cmd_slot\" already exists", r.Stderr);
        Assert.Contains("replication slot \"cmd_slot\" does not exist", r.Stderr);
        // SHOW on replication=database is SQL's: it sees the client's own settings.
        var own = await Psql("database", "SET work_mem = '7MB'", "SHOW work_mem");
        Assert.Equal("7MB", own.Stdout.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task Read_and_alter_replication_slot_answer_as_postgres()
    {
        var r = await Psql("database", "CREATE_REPLICATION_SLOT cmd_ra LOGICAL pgoutput (SNAPSHOT 'nothing')",
            "READ_REPLICATION_SLOT cmd_ra", "READ_REPLICATION_SLOT cmd_none",
            "ALTER_REPLICATION_SLOT cmd_ra (FAILOVER true)", "SELECT failover FROM pg_replication_slots WHERE slot_name = 'cmd_ra'",
            "ALTER_REPLICATION_SLOT cmd_ra (FAILOVER false)", "SELECT failover FROM pg_replication_slots WHERE slot_name = 'cmd_ra'",
            "ALTER_REPLICATION_SLOT cmd_ra (TWO_PHASE true)",
            "SELECT two_phase::text || '/' || (two_phase_at IS NOT NULL)::text FROM pg_replication_slots WHERE slot_name = 'cmd_ra'",
            "ALTER_REPLICATION_SLOT cmd_none (FAILOVER)", "DROP_REPLICATION_SLOT cmd_ra",
            "CREATE_REPLICATION_SLOT cmd_fo LOGICAL pgoutput (SNAPSHOT 'nothing', FAILOVER)",
            "SELECT 'failover:' || failover FROM pg_replication_slots WHERE slot_name = 'cmd_fo'", "DROP_REPLICATION_SLOT cmd_fo",
            "CREATE_REPLICATION_SLOT cmd_tfo TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing', FAILOVER)");
        Assert.Contains("cannot use READ_REPLICATION_SLOT with a logical replication slot", r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("||", lines); // a missing slot reads as one row of NULLs
        Assert.Equal(["t", "f"], lines.Where(l => l is "t" or "f"));
        Assert.Contains("true/true", lines); // two-phase decoding from the slot's confirmed position on
        Assert.Contains("replication slot \"cmd_none\" does not exist", r.Stderr);
        Assert.Contains("failover:true", lines); // CREATE_REPLICATION_SLOT's FAILOVER is stored as ALTER's is
        Assert.Contains("cannot enable failover for a temporary replication slot", r.Stderr);
    }

    [Fact]
    public async Task What_ZeroPg_cannot_serve_is_refused_with_postgres_errors()
    {
        var r = await Psql("database", "CREATE_REPLICATION_SLOT exported TEMPORARY LOGICAL pgoutput", "CREATE_REPLICATION_SLOT \"Bad-Name\" LOGICAL pgoutput (SNAPSHOT 'nothing')",
            "CREATE_REPLICATION_SLOT p PHYSICAL", "BASE_BACKUP", "START_REPLICATION 0/0", "START_REPLICATION SLOT nope LOGICAL 0/0 (proto_version '1', publication_names 'x')",
            "CREATE_REPLICATION_SLOT cmd_tmp TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')",
            "START_REPLICATION SLOT cmd_tmp LOGICAL 0/0 (publication_names 'x')",
            "START_REPLICATION SLOT cmd_tmp LOGICAL 0/0 (proto_version '9', publication_names 'x')",
            "START_REPLICATION SLOT cmd_tmp LOGICAL 0/0 (proto_version '1', publication_names 'no_such_pub')",
            "START_REPLICATION SLOT cmd_tmp LOGICAL 0/0 (proto_version '1', publication_names 'x', streaming 'on')",
            "START_REPLICATION SLOT cmd_tmp LOGICAL 0/0 (proto_version '3', publication_names 'x', streaming 'parallel')",
            "START_REPLICATION SLOT cmd_tmp LOGICAL 0/0 (proto_version '2', publication_names 'x', two_phase 'on')",
            "SELECT 41 + 1");
        Assert.Matches("exported.*[0-9A-F]{8}-[0-9A-F]{8}-1.*pgoutput", r.Stdout); // CREATE_REPLICATION_SLOT exports a snapshot by default
        Assert.Contains("replication slot name \"Bad-Name\" contains invalid character", r.Stderr);
        Assert.Contains("physical replication slots are not supported", r.Stderr);
        Assert.Contains("BASE_BACKUP is not supported", r.Stderr);
        Assert.Contains("physical replication is not supported", r.Stderr);
        Assert.Contains("replication slot \"nope\" does not exist", r.Stderr);
        Assert.Contains("option \"proto_version\" missing", r.Stderr);
        Assert.Contains("client sent proto_version=9 but server only supports protocol 4 or lower", r.Stderr);
        Assert.Contains("publication \"no_such_pub\" does not exist", r.Stderr);
        Assert.Contains("requested proto_version=1 does not support streaming, need 2 or higher", r.Stderr);
        Assert.Contains("requested proto_version=2 does not support two-phase commit, need 3 or higher", r.Stderr);
        Assert.Contains("requested proto_version=3 does not support parallel streaming, need 4 or higher", r.Stderr);
        Assert.EndsWith("42", r.Stdout.Trim()); // plain SQL on a replication=database connection

        var physical = await Psql("true", "SELECT 1");
        Assert.Contains("cannot execute SQL commands in WAL sender for physical replication", physical.Stderr);
        var invalid = await Psql("maybe", "SELECT 1");
        Assert.Contains("invalid value for parameter \"replication\"", invalid.Stderr);
    }
}
