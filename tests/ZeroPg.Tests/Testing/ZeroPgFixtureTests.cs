using Npgsql;
using ZeroPg.Testing;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Testing;

/// <summary>A fixture as a test suite derives it: its own user, password and init scripts.</summary>
public sealed class AppFixture : ZeroPgFixture
{
    private readonly string _initFolder = CreateInitFolder();

    protected override ZeroPgBuilder Configure(ZeroPgBuilder builder) => builder
        .WithUsername("suite").WithPassword("suite pw").WithInitScripts(_initFolder).WithSetting("work_mem", "12MB");

    protected override Task OnStartedAsync()
    {
        Directory.Delete(_initFolder, recursive: true); // the scripts ran at the start
        return Task.CompletedTask;
    }

    private static string CreateInitFolder()
    {
        var folder = Directory.CreateTempSubdirectory("zeropg-fixture-init-").FullName;
        File.WriteAllText(Path.Combine(folder, "01.sql"), "create table products (id int primary key, name text); insert into products values (1, 'seeded');");
        return folder;
    }
}

/// <summary>ZeroPg.Testing as a suite uses it: the xunit fixture, the builder with Testcontainers' names, ExecScriptAsync, the DI helper.</summary>
public sealed class ZeroPgFixtureTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_fixture_serves_its_user_password_init_scripts_and_settings()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        Assert.Equal("suite|seeded|12MB", await connection.TextAsync("select current_user || '|' || (select name from products) || '|' || current_setting('work_mem')"));
    }

    [Fact]
    public async Task Exec_script_runs_as_a_client_and_returns_errors_like_psql()
    {
        var ok = await fixture.ExecScriptAsync("insert into products values (2, 'scripted'); select name from products order by id");
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("seeded\nscripted\n", ok.Stdout);
        var failed = await fixture.ExecScriptAsync("select * from no_such_table");
        Assert.Equal(1, failed.ExitCode);
        Assert.Equal("42P01", failed.SqlState);
        Assert.Equal("ERROR:  relation \"no_such_table\" does not exist\n", failed.Stderr);
        // The script ran in a session of its own: it did not leave anything open for the next one.
        Assert.Equal(0, (await fixture.ExecScriptAsync("delete from products where id = 2")).ExitCode);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Restore_resets_the_fixture_database_to_its_snapshot_and_leaves_the_other_databases()
    {
        await using var snapshot = await fixture.SnapshotAsync();
        Assert.Equal("suite", snapshot.Database); // the username's database, as the Postgres image makes it
        Assert.Equal(0, (await fixture.ExecScriptAsync("insert into products values (3, 'by a test'); create table leftovers (x int)")).ExitCode);
        Assert.Equal(0, (await fixture.Server.ExecScriptAsync("create table if not exists in_postgres (x int)", "postgres")).ExitCode);

        await fixture.RestoreAsync();

        Assert.Equal("seeded\n", (await fixture.ExecScriptAsync("select string_agg(name, ',') from products")).Stdout);
        Assert.Equal("42P01", (await fixture.ExecScriptAsync("select * from leftovers")).SqlState);
        Assert.Equal(0, (await fixture.Server.ExecScriptAsync("select * from in_postgres", "postgres")).ExitCode);
    }

    [Fact]
    public async Task The_builder_uses_testcontainers_names_and_stops_cleanly()
    {
        await using var container = new ZeroPgBuilder().WithUsername("built").WithPassword("pw").Build();
        await container.StartAsync();
        await using (var connection = new NpgsqlConnection(container.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            Assert.Equal("built", await connection.TextAsync("select current_user"));
        }
        Assert.Equal("1\n", (await container.ExecScriptAsync("select 1")).Stdout);
        await container.StopAsync();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Each_test_gets_a_fresh_copy_of_a_migrated_template_and_with_database_names_the_database()
    {
        await using var container = new ZeroPgBuilder().WithDatabase("shop").Build();
        await container.StartAsync();
        await using (var shop = new NpgsqlConnection(container.GetConnectionString() + ";Pooling=false"))
        {
            await shop.OpenAsync();
            Assert.Equal("shop", await shop.TextAsync("select current_database()"));
        }
        var template = await container.CreateDatabaseAsync(name: "migrated");
        await using (var migrate = new NpgsqlConnection(template + ";Pooling=false"))
        {
            await migrate.OpenAsync();
            await migrate.ExecAsync("create table orders (id int primary key, item text); insert into orders values (1, 'seed')");
        }
        var first = await container.CreateDatabaseAsync("migrated");
        var second = await container.CreateDatabaseAsync("migrated");
        await using (var a = new NpgsqlConnection(first + ";Pooling=false"))
        {
            await a.OpenAsync();
            await a.ExecAsync("insert into orders values (2, 'only in the first copy')");
            Assert.Equal("2", await a.TextAsync("select count(*) from orders"));
        }
        await using var b = new NpgsqlConnection(second + ";Pooling=false");
        await b.OpenAsync();
        Assert.Equal("1", await b.TextAsync("select count(*) from orders"));
    }
}
