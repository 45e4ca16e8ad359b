using Npgsql;
using ZeroPg.Storage.Backup;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

public sealed class FileBackupTests
{
    [Fact]
    public async Task After_a_graceful_stop_a_server_on_an_empty_directory_restores_every_commit()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var first = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            await using var connection = await Open(first);
            await WalScannerTests.Execute(connection, "create table t(id int primary key, v text)");
            for (var i = 0; i < 200; i++)
                await WalScannerTests.Execute(connection, $"insert into t values ({i}, 'row {i}')");
            await first.StopAsync();
        }
        await using var second = await ZeroPgServer.StartAsync(Options(directory.Sub("b"), url), TestLogging.Factory);
        Assert.NotNull(second.Backup!.RestoredFrom);
        await using var check = await Open(second);
        Assert.Equal(200L, await WalScannerTests.Scalar(check, "select count(*) from t"));
    }

    internal static ZeroPgOptions Options(string db, string url, Action<BackupOptions>? configure = null)
    {
        var backup = new BackupOptions { Url = url, LeaseTtl = TimeSpan.FromSeconds(2) };
        configure?.Invoke(backup);
        return new ZeroPgOptions { DataDirectory = db, Backup = backup };
    }

    internal static async Task<NpgsqlConnection> Open(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
