using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using ZeroPg.Tests.Infrastructure;
using ZeroPg.Tests.Security;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>With SCRAM-SHA-256 on, a replication connection needs a role with REPLICATION (or a superuser), as Postgres requires.</summary>
[Collection(SecuredServerCollection.Name)]
public class ReplicationRoleTests(SecuredServerFixture fixture)
{
    [Fact]
    public async Task A_role_without_REPLICATION_is_refused_with_42501()
    {
        await using (var admin = await fixture.OpenAsync())
            await admin.ExecAsync("CREATE ROLE rr_app LOGIN PASSWORD 'app pw'; CREATE ROLE rr_cdc LOGIN REPLICATION PASSWORD 'cdc pw'");

        await using (var plain = await fixture.OpenAsync("rr_app", "app pw"))
        {
            Assert.Equal(1, await new NpgsqlCommand("SELECT 1", plain).ExecuteScalarAsync()); // an ordinary connection is fine
            var slots = await Assert.ThrowsAsync<PostgresException>(() => plain.ExecAsync("SELECT pg_create_logical_replication_slot('rr_sql', 'pgoutput')"));
            Assert.Equal(("42501", "permission denied to use replication slots"), (slots.SqlState, slots.MessageText));
            // ZeroPg's SECURITY DEFINER internals check the session's role too: calling them directly reads no captured change.
            var direct = await Assert.ThrowsAsync<PostgresException>(() => plain.ExecAsync("SELECT * FROM zeropg_repl.decode('rr_any', NULL, NULL, '{}', 0, '{}', true, false, 'f')"));
            Assert.Equal("42501", direct.SqlState);
        }

        await using var refused = new LogicalReplicationConnection(fixture.ConnectionString("rr_app", "app pw"));
        var error = await Assert.ThrowsAsync<PostgresException>(() => refused.Open());
        Assert.Equal("42501", error.SqlState);
        Assert.Equal("permission denied to start WAL sender", error.MessageText);

        await using var cdc = new LogicalReplicationConnection(fixture.ConnectionString("rr_cdc", "cdc pw"));
        await cdc.Open();
        var slot = await cdc.CreatePgOutputReplicationSlot("rr_slot", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
        Assert.Equal("rr_slot", slot.Name);
    }
}
