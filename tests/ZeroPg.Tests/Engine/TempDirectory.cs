namespace ZeroPg.Tests.Engine;

/// <summary>A temporary directory whose name has a space and non-ASCII characters (paths users really have).</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "zeropg tést ü")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix} {Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
