namespace ZeroPg.Storage;

/// <summary>
/// An exclusive lock on a data directory. PGlite takes none (two engines on one directory corrupt
/// it), so ZeroPg holds an flock on ".zeropg.lock" (FileShare.None) for as long as it serves it. The
/// kernel drops the lock when the holder dies, so a stale lock is simply taken over. The holder's pid
/// is also written to ".zeropg.pid": the locked file itself cannot be opened by the refused process.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    public const string LockFileName = ".zeropg.lock";
    public const string PidFileName = ".zeropg.pid";

    private readonly FileStream _stream;
    private string _pidFile;

    private DataDirectoryLock(FileStream stream, string pidFile)
    {
        _stream = stream;
        _pidFile = pidFile;
    }

    public static DataDirectoryLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        var lockFile = Path.Combine(directory, LockFileName);
        var pidFile = Path.Combine(directory, PidFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var holder = ReadHolder(pidFile);
            throw new InvalidOperationException(
                $"The data directory {directory} is in use by another ZeroPg server ({holder}). " +
                "Stop that server or use another directory; two engines on one directory would corrupt it.");
        }
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        stream.SetLength(0);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(pid + "\n"));
        stream.Flush();
        File.WriteAllText(pidFile, pid + "\n");
        return new DataDirectoryLock(stream, pidFile);
    }

    /// <summary>The directory was renamed while locked (Databases: a spare claimed): the flock follows the open file, the pid file's path changes.</summary>
    public void Moved(string directory) => _pidFile = Path.Combine(directory, PidFileName);

    private static string ReadHolder(string pidFile)
    {
        try
        {
            return $"pid {File.ReadAllText(pidFile).Trim()}";
        }
        catch (IOException)
        {
            return "pid unknown";
        }
    }

    public void Dispose()
    {
        try
        {
            File.Delete(_pidFile);
        }
        catch (IOException)
        {
        }
        _stream.Dispose();
    }
}
