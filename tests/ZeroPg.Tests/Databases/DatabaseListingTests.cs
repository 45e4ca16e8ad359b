using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>
/// pg_database, and so psql's \l, lists every database of the server from a client of any of them, in the shape native
/// PostgreSQL 15 shows (compared with psql 15 against both); pg_database_size and has_database_privilege answer for the
/// other databases; template1 accepts connections and is what CREATE DATABASE copies, template0 refuses them.
/// </summary>
[Collection(NativePostgresCollection.Name)]
public sealed class DatabaseListingTests(DatabaseFixture fixture, NativePostgres native) : IClassFixture<DatabaseFixture>
{
    private const string RecordEnd = "~~";

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Psql_l_lists_every_database_from_any_of_them_as_native_PostgreSQL_15_shows_it()
    {
        var (first, second) = (fixture.NewName("listed"), fixture.NewName("listed"));
        foreach (var name in (string[])[first, second])
        {
            await fixture.ExecuteAsync($"CREATE DATABASE {name}");
            await native.ExecuteAsync("postgres", $"CREATE DATABASE {name}");
        }
        string[] names = ["postgres", first, second, "template0", "template1"];
        var expected = await ListAsync(native.Url(first), names);
        foreach (var database in (string[])[first, "postgres"])
        {
            var listed = await ListAsync(Url(database), names);
            Assert.Equal(expected.Header, listed.Header);
            Assert.Equal(names.Order(StringComparer.Ordinal), listed.Rows.Select(r => r["Name"]));
            foreach (var (ours, theirs) in listed.Rows.Zip(expected.Rows))
            {
                // The locale differs by how each cluster was made (PGlite's initdb: C collation); the rest is Postgres's.
                foreach (var column in (string[])["Name", "Owner", "Encoding", "Ctype", "ICU Locale", "Locale Provider", "Access privileges"])
                    Assert.True(theirs[column] == ours[column], $"{column} of {ours["Name"]}: ZeroPg \"{ours[column]}\", PostgreSQL 15 \"{theirs[column]}\"");
            }
        }

        var plus = await ExternalTool.RunAsync("psql", [Url(first), "-X", "-v", "ON_ERROR_STOP=1", "-c", @"\l+"]);
        Assert.True(plus.ExitCode == 0, plus.All);
        Assert.Contains(second, plus.Stdout);
        var reconnect = await ExternalTool.RunAsync("psql", [Url(first), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-c", $@"\c {second}", "-c", "SELECT current_database()"]);
        Assert.True(reconnect.ExitCode == 0, reconnect.All);
        Assert.EndsWith(second, reconnect.Stdout.Trim());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Each_database_sees_its_own_row_and_the_others_sizes_and_privileges()
    {
        var (own, other) = (fixture.NewName("own"), fixture.NewName("other"));
        await fixture.ExecuteAsync($"CREATE DATABASE {own}");
        await fixture.ExecuteAsync($"CREATE DATABASE {other}");
        await using var connection = await fixture.OpenAsync(own);
        Assert.Equal(own, await connection.TextAsync("SELECT datname FROM pg_database WHERE datname = current_database()"));
        // Its own row has its engine's oid: the statistics and size functions of its engine agree with it.
        Assert.Equal(true, await connection.ScalarAsync(
            "SELECT d.oid = s.datid AND pg_database_size(d.oid) = pg_database_size(current_database()) FROM pg_database d JOIN pg_stat_database s ON s.datname = d.datname WHERE d.datname = current_database()"));
        Assert.Equal(true, await connection.ScalarAsync("SELECT count(DISTINCT oid) = count(*) AND count(*) >= 5 FROM pg_database"));
        Assert.Equal(true, await connection.ScalarAsync(
            $"SELECT pg_database_size('{other}') > 1000000 AND pg_database_size((SELECT oid FROM pg_database WHERE datname = '{other}')) = pg_database_size('{other}')"));
        Assert.Equal(true, await connection.ScalarAsync($"SELECT has_database_privilege('{other}', 'CONNECT') AND has_database_privilege(current_user, '{other}', 'CREATE')"));
        var postgresFromHere = (long)(await connection.ScalarAsync("SELECT pg_database_size('postgres')"))!;
        await using (var postgres = await fixture.OpenAsync("postgres"))
        {
            var postgresItself = (long)(await postgres.ScalarAsync("SELECT pg_database_size(current_database())"))!;
            Assert.InRange(postgresFromHere, postgresItself * 9 / 10, postgresItself * 11 / 10);
            Assert.Equal(own, await postgres.TextAsync($"SELECT datname FROM pg_database WHERE datname = '{own}'"));
        }
        var missing = await Assert.ThrowsAsync<PostgresException>(() => connection.ScalarAsync("SELECT pg_database_size('no_such_database')"));
        Assert.Equal("3D000", missing.SqlState);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Template1_takes_connections_and_is_copied_by_create_database_template0_refuses_them()
    {
        await using (var template1 = await fixture.OpenAsync("template1"))
        {
            Assert.Equal("template1|1", await template1.TextAsync("SELECT datname || '|' || oid FROM pg_database WHERE datname = current_database()"));
            await template1.ExecAsync("CREATE EXTENSION IF NOT EXISTS citext");
        }
        var copy = fixture.NewName("from_template1");
        await fixture.ExecuteAsync($"CREATE DATABASE {copy}");
        await using (var connection = await fixture.OpenAsync(copy))
            Assert.Equal(true, await connection.ScalarAsync("SELECT 'ABC'::citext = 'abc'"));

        var refused = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("template0"));
        Assert.Equal("55000", refused.SqlState);
        Assert.Equal("database \"template0\" is not currently accepting connections", refused.MessageText);
        var drop = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync("DROP DATABASE template1"));
        Assert.Equal("42809", drop.SqlState);
        Assert.Equal("cannot drop a template database", drop.MessageText);
        var exists = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync("CREATE DATABASE template1"));
        Assert.Equal("42P04", exists.SqlState);
    }

    private string Url(string database)
    {
        var url = fixture.Server.Url;
        return url[..(url.LastIndexOf('/') + 1)] + database;
    }

    /// <summary>psql's \l, unaligned: its title and header and the rows of <paramref name="names"/> (the native server holds other tests' databases too), by column.</summary>
    private static async Task<(string Header, List<Dictionary<string, string>> Rows)> ListAsync(string url, string[] names)
    {
        var result = await ExternalTool.RunAsync("psql", [url, "-X", "-A", "-F", "|", "-R", RecordEnd, "-P", "footer=off", "-v", "ON_ERROR_STOP=1", "-c", @"\l"]);
        Assert.True(result.ExitCode == 0, result.All);
        var records = result.Stdout.TrimEnd('\n').Split(RecordEnd); // "List of databases", the column names, the rows
        var columns = records[1].Split('|');
        var rows = records.Skip(2).Select(r => columns.Zip(r.Split('|')).ToDictionary(p => p.First, p => p.Second))
            .Where(r => names.Contains(r["Name"])).OrderBy(r => r["Name"], StringComparer.Ordinal).ToList();
        return (records[0] + "\n" + records[1], rows);
    }
}
