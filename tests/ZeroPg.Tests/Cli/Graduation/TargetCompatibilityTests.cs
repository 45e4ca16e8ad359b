using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli.Graduation;

/// <summary>A dump for an older target is refused, naming each object that uses a feature the target lacks; a dump for 18 keeps them.</summary>
public sealed class TargetCompatibilityTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Objects_an_older_target_cannot_hold_refuse_the_dump_and_are_named()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using (var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await connection.ExecAsync("""
                create table priced (net numeric, gross numeric generated always as (net * 1.2) virtual);
                create table orders (id int primary key, amount int, constraint positive check (amount > 0) not enforced);
                create table plain (id int primary key);
                """);
        }
        var url = server.Url;
        var for15 = await ZeroPgCli.RunAsync(["dump", "--db", url, "--target-version", "15", "-q"]);
        Assert.NotEqual(0, for15.ExitCode);
        Assert.Contains("virtual generated columns (GENERATED ALWAYS AS (...) VIRTUAL) (PostgreSQL 18+): priced.gross", for15.Stderr);
        Assert.Contains("NOT ENFORCED constraints (PostgreSQL 18+): positive on orders", for15.Stderr);
        Assert.DoesNotContain("CREATE TABLE", for15.Stdout); // nothing half-written

        var for18 = await ZeroPgCli.RunAsync(["dump", "--db", url, "--target-version", "18", "-q"]);
        Assert.True(for18.ExitCode == 0, for18.All);
        Assert.Contains("gross numeric GENERATED ALWAYS AS ((net * 1.2))\n", for18.Stdout); // virtual: 18's default, no STORED
        Assert.Contains("NOT ENFORCED", for18.Stdout);

        await using (var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await connection.ExecAsync("drop table priced; drop table orders");
        }
        var cleared = await ZeroPgCli.RunAsync(["dump", "--db", url, "--target-version", "15", "-q"]);
        Assert.True(cleared.ExitCode == 0, cleared.All);
        Assert.Contains("CREATE TABLE public.plain", cleared.Stdout);
    }
}
