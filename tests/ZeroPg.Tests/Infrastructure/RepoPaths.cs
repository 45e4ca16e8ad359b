namespace ZeroPg.Tests.Infrastructure;

/// <summary>Folders of the repository the tests run from.</summary>
public static class RepoPaths
{
    /// <summary>The repository root: the first folder above the test binaries holding ZeroPg.slnx.</summary>
    public static string Root { get; } = FindRoot();

    public static string NodeTests => Path.Combine(Root, "tests", "node");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ZeroPg.slnx")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"ZeroPg.slnx not found above {AppContext.BaseDirectory}");
    }
}
