using Npgsql;
using ZeroPg.Tests.Infrastructure;
using ZeroPg.Tests.Security;

namespace ZeroPg.Tests.Databases;

/// <summary>Roles belong to the cluster: a role made in postgres logs into every database, with its password, as itself.</summary>
[Collection(SecuredServerCollection.Name)]
public sealed class ClusterRoleTests(SecuredServerFixture fixture)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_role_made_in_postgres_logs_into_databases_made_before_and_after_it_with_its_password()
    {
        await using var admin = await fixture.OpenAsync();
        await admin.ExecAsync("create database cr_before");
        await admin.ExecAsync("create role cr_app login password 'first'");
        await admin.ExecAsync("create database cr_after");
        foreach (var database in (string[])["cr_before", "cr_after"])
        {
            await using var app = await fixture.OpenAsync("cr_app", "first", $"Database={database}");
            Assert.Equal($"{database}|cr_app|off", await app.TextAsync("select current_database() || '|' || current_user || '|' || current_setting('is_superuser')"));
            // Its own identity there, with Postgres 15+'s rules: no CREATE in public for a role that was not granted it.
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => app.ExecAsync("create table mine (x int)"))).SqlState);
        }
        // A password changed in postgres is the one every database checks.
        await admin.ExecAsync("alter role cr_app password 'second'");
        Assert.Equal("28P01", (await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("cr_app", "first", "Database=cr_before"))).SqlState);
        await using var again = await fixture.OpenAsync("cr_app", "second", "Database=cr_before");
        Assert.Equal("cr_app", await again.TextAsync("select current_user"));
        var missing = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync(extra: "Database=cr_none"));
        Assert.Equal("3D000", missing.SqlState);
    }
}
