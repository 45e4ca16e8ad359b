using Npgsql;
using ZeroPg.Storage.Backup.Wal;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

public sealed class WalScannerTests
{
    [Fact]
    public async Task Scanning_a_running_engines_wal_ends_at_its_flush_position_and_sees_each_commit()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await Execute(connection, "create table t(id int primary key, v text)");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (var i = 0; i < 20; i++)
            await Execute(connection, $"insert into t values ({i}, repeat('x', {i * 500}))");
        var flushed = Lsn.Parse((string)(await Scalar(connection, "select pg_current_wal_flush_lsn()::text"))!);

        var control = ControlFile.TryRead(db)!;
        using var source = new WalDirectorySource(Path.Combine(db, "pg_wal"), control.Timeline, WalGeometry.Default);
        var scanner = new WalScanner(source);
        var commits = new List<DateTimeOffset>();
        var (end, _) = scanner.Scan(control.Redo, Lsn.Invalid, new Lsn(ulong.MaxValue), r => { if (r.CommitTime is { } t) commits.Add(t); });

        Assert.Equal(flushed, end);
        Assert.True(commits.Count >= 21, $"{commits.Count} commits");
        Assert.All(commits[^20..], t => Assert.InRange(t, before, DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    internal static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<object?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
