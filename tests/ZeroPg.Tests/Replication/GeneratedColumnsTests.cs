using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// Postgres 18's publish_generated_columns (not in PostgreSQL 15, so outside the differential test): a stored generated column is
/// published when the publication says <c>publish_generated_columns = stored</c> or its column list names it, and left out
/// otherwise; by the SQL slot functions and the stream alike.
/// </summary>
[Collection(ServerCollection.Name)]
public class GeneratedColumnsTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_stored_generated_column_is_published_when_the_publication_asks_for_it()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("""
            CREATE TABLE gencol_t (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED);
            CREATE PUBLICATION gencol_none FOR TABLE gencol_t;
            CREATE PUBLICATION gencol_stored FOR TABLE gencol_t WITH (publish_generated_columns = stored);
            CREATE PUBLICATION gencol_list FOR TABLE gencol_t (id, doubled);
            SELECT slot_name FROM pg_create_logical_replication_slot('gencol_slot', 'pgoutput');
            INSERT INTO gencol_t (id, a) VALUES (1, 21);
            UPDATE gencol_t SET a = 22;
            """);

        Assert.Equal(["R public.gencol_t d [1:id:23:-1, 0:a:23:-1]", "I gencol_t N[t:1, t:21]", "U gencol_t N[t:1, t:22]"],
            await PeekAsync(c, "gencol_none"));
        Assert.Equal(["R public.gencol_t d [1:id:23:-1, 0:a:23:-1, 0:doubled:23:-1]", "I gencol_t N[t:1, t:21, t:42]", "U gencol_t N[t:1, t:22, t:44]"],
            await PeekAsync(c, "gencol_stored"));
        Assert.Equal(["R public.gencol_t d [1:id:23:-1, 0:doubled:23:-1]", "I gencol_t N[t:1, t:42]", "U gencol_t N[t:1, t:44]"],
            await PeekAsync(c, "gencol_list"));
        Assert.Equal(["R public.gencol_t d [1:id:23:-1, 0:a:23:-1, 0:doubled:23:-1]", "I gencol_t N[t:1, t:21, t:42]", "U gencol_t N[t:1, t:22, t:44]"],
            await StreamAsync("gencol_stored"));
        Assert.Equal(["R public.gencol_t d [1:id:23:-1, 0:a:23:-1]", "I gencol_t N[t:1, t:21]", "U gencol_t N[t:1, t:22]"],
            await StreamAsync("gencol_none"));
        await c.ExecAsync("SELECT pg_drop_replication_slot('gencol_slot')");
    }

    private static async Task<List<string>> PeekAsync(NpgsqlConnection c, string publication)
        => WithoutBeginCommit(new PgOutputText().Describe(
            await RawPgOutput.PeekAsync(c, "gencol_slot", $"'proto_version', '1', 'publication_names', '{publication}'")));

    /// <summary>The walsender's stream from the slot's start up to the UPDATE.</summary>
    private async Task<List<string>> StreamAsync(string publication)
        => WithoutBeginCommit(new PgOutputText().Describe(await RawPgOutput.StreamAsync(fixture.ConnectionString, "gencol_slot",
            [new("proto_version", "1"), new("publication_names", publication)], message => message[0] == 'U')));

    private static List<string> WithoutBeginCommit(List<string> messages) => [.. messages.Where(m => m is not ("B" or "C flags=0"))];
}
