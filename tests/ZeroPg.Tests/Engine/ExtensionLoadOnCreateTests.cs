using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class ExtensionLoadOnCreateTests
{
    [Fact]
    public async Task Create_extension_of_a_bundled_extension_loads_it_and_keeps_the_in_memory_data()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var cs = server.GetConnectionString() + ";Pooling=false";
        await using var other = new NpgsqlConnection(cs);
        await other.OpenAsync();
        await other.ExecAsync("CREATE TABLE kept(v text); INSERT INTO kept VALUES ('still here')");
        await using var prepared = new NpgsqlCommand("SELECT v FROM kept", other);
        await prepared.PrepareAsync();

        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        await connection.ExecAsync("CREATE EXTENSION pgcrypto");
        var digest = (string)(await connection.ScalarAsync("SELECT encode(digest('abc', 'sha256'), 'hex')"))!;
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest);

        Assert.Equal("still here", await connection.ScalarAsync("SELECT v FROM kept"));
        Assert.Equal("still here", await prepared.ExecuteScalarAsync()); // prepared again in the new engine
        Assert.Contains("pgcrypto", server.Services.Engine.LoadedExtensions);
    }

    [Fact]
    public async Task An_extension_that_is_not_bundled_still_fails_with_the_engines_error()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync("CREATE EXTENSION postgis"));
        Assert.Equal("0A000", error.SqlState);
        Assert.Equal(1L, await connection.ScalarAsync("SELECT 1::bigint"));
    }
}
