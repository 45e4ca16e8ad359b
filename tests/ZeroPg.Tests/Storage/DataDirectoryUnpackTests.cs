using System.Formats.Tar;
using ZeroPg.Storage;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Storage;

/// <summary>A cluster's tar unpacked into a new data directory before its engine opens it (the engine's own start from it is in DatabaseTests).</summary>
public sealed class DataDirectoryUnpackTests : IDisposable
{
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Files_and_folders_come_out_as_packed_and_private_to_the_owner(bool fsync)
    {
        var tar = Tar(("/PG_VERSION", "18\n"u8.ToArray()), ("/base/5/1259", Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray()), ("/pg_wal/archive_status/", null));
        var target = Path.Combine(_work.Path, "data");

        DataDirectoryUnpack.Extract(tar, target, fsync);

        Assert.Equal("18\n", File.ReadAllText(Path.Combine(target, "PG_VERSION")));
        Assert.Equal(Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray(), File.ReadAllBytes(Path.Combine(target, "base", "5", "1259")));
        Assert.True(Directory.Exists(Path.Combine(target, "pg_wal", "archive_status")));
        // Postgres refuses a data directory that others may read.
        if (OperatingSystem.IsWindows())
            return;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(target));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(target, "PG_VERSION")));
    }

    [Fact]
    public void An_entry_that_would_land_outside_the_directory_is_refused()
    {
        var tar = Tar(("/PG_VERSION", "18\n"u8.ToArray()), ("../escaped", "x"u8.ToArray()));
        var target = Path.Combine(_work.Path, "data");

        var error = Assert.Throws<InvalidDataException>(() => DataDirectoryUnpack.Extract(tar, target, fsync: false));

        Assert.Contains("outside the data directory", error.Message);
        Assert.False(File.Exists(Path.Combine(_work.Path, "escaped")));
    }

    [Fact]
    public void A_file_already_there_is_not_overwritten()
    {
        var target = Path.Combine(_work.Path, "data");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "PG_VERSION"), "17\n");

        Assert.Throws<IOException>(() => DataDirectoryUnpack.Extract(Tar(("/PG_VERSION", "18\n"u8.ToArray())), target, fsync: false));
        Assert.Equal("17\n", File.ReadAllText(Path.Combine(target, "PG_VERSION")));
    }

    private string Tar(params (string Name, byte[]? Data)[] entries)
    {
        var path = Path.Combine(_work.Path, $"cluster-{Guid.NewGuid():N}.tar");
        using var file = File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Ustar);
        foreach (var (name, data) in entries)
        {
            var entry = new UstarTarEntry(data is null ? TarEntryType.Directory : TarEntryType.RegularFile, name);
            if (data is not null)
                entry.DataStream = new MemoryStream(data);
            writer.WriteEntry(entry);
        }
        return path;
    }
}
