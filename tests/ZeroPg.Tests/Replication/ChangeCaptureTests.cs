using Npgsql;
using ZeroPg.Replication.Capture;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication;

/// <summary>Change capture inside the PGlite engine, driven through a ZeroPg server with plain SQL.</summary>
[Collection(ServerCollection.Name)]
public class ChangeCaptureTests(ServerFixture fixture)
{
    private static async Task<List<(ulong Xid, string Op, string? Old, string? New)>> ChangesAsync(NpgsqlConnection c, string table)
    {
        await using var cmd = new NpgsqlCommand(
            $"SELECT xid::text, op::text, old_row, new_row FROM zeropg_repl.changes WHERE relid = '{table}'::regclass ORDER BY seq", c);
        await using var r = await cmd.ExecuteReaderAsync();
        var list = new List<(ulong, string, string?, string?)>();
        while (await r.ReadAsync())
            list.Add((ulong.Parse(r.GetString(0)), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3)));
        return list;
    }

    [Fact]
    public async Task Changes_are_recorded_in_the_transaction_with_the_real_xid()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync(CaptureSchema.Install);
        await c.ExecAsync("""
            CREATE TABLE cap_t (id int PRIMARY KEY, name text, at timestamptz, tags text[]);
            SELECT zeropg_repl.attach('cap_t');
            """);

        await using (var tx = await c.BeginTransactionAsync())
        {
            await c.ExecAsync("INSERT INTO cap_t VALUES (1, 'a, \"b\"', '2026-01-02 03:04:05+00', '{x,NULL}'), (2, NULL, NULL, NULL)");
            await c.ExecAsync("UPDATE cap_t SET name = '' WHERE id = 2");
            await c.ExecAsync("DELETE FROM cap_t WHERE id = 1");
            var xid = ulong.Parse((string)(await new NpgsqlCommand("SELECT pg_current_xact_id()::text", c, tx).ExecuteScalarAsync())!);
            await tx.CommitAsync();

            var changes = await ChangesAsync(c, "cap_t");
            Assert.Equal(["I", "I", "U", "D"], changes.Select(x => x.Op));
            Assert.All(changes, x => Assert.Equal(xid, x.Xid));
            Assert.Equal(["1", "a, \"b\"", "2026-01-02 03:04:05+00", "{x,NULL}"], RecordText.Split(changes[0].New!));
            Assert.Equal(["2", null, null, null], RecordText.Split(changes[1].New!));
            Assert.Equal(["2", "", null, null], RecordText.Split(changes[2].New!));
            Assert.Equal(["2", null, null, null], RecordText.Split(changes[2].Old!));
            Assert.Equal("1", RecordText.Split(changes[3].Old!)[0]);
        }

        await using (var tx = await c.BeginTransactionAsync())
        {
            await c.ExecAsync("INSERT INTO cap_t VALUES (9, 'gone')");
            await c.ExecAsync("TRUNCATE cap_t");
            await tx.RollbackAsync();
        }
        Assert.Equal(4, (await ChangesAsync(c, "cap_t")).Count);

        await c.ExecAsync("TRUNCATE cap_t");
        Assert.Equal("T", (await ChangesAsync(c, "cap_t"))[^1].Op);

        // A table that is not attached records nothing.
        await c.ExecAsync("CREATE TABLE cap_plain (id int); INSERT INTO cap_plain VALUES (1)");
        Assert.Empty(await ChangesAsync(c, "cap_plain"));
    }

    [Theory]
    [InlineData("(1,abc)", new[] { "1", "abc" })]
    [InlineData("(,\"\")", new[] { null, "" })]
    [InlineData("(\"a\\\\b\",\"x\"\"y\")", new[] { "a\\b", "x\"y" })]
    [InlineData("(\"(1,2)\",\"{\"\"a b\"\"}\")", new[] { "(1,2)", "{\"a b\"}" })]
    public void Record_text_splits_like_record_in(string text, string?[] expected) => Assert.Equal(expected, RecordText.Split(text));
}
