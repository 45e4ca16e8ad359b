using ZeroPg.Engine;
using ZeroPg.Migrations;

namespace ZeroPg.Compatibility;

/// <summary>
/// `zeropg check`: scans a project folder (or one file) for what it needs from Postgres and says whether
/// and how it runs on ZeroPg. Migration and schema files are read for extensions and behaviour
/// differences, manifests for drivers, environment and config files for TLS requirements.
/// </summary>
public static class ProjectScanner
{
    private static readonly HashSet<string> SkippedDirectories = new(StringComparer.Ordinal)
    {
        "node_modules", ".git", "bin", "obj", "dist", "build", "target", "vendor", ".venv", "venv", "__pycache__", ".next", ".turbo", "coverage",
    };

    private static readonly HashSet<string> MigrationDirectoryNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "migrations", "migration", "migrate", "versions", "drizzle", "schema", "db", "sql", "database",
    };

    private static readonly HashSet<string> CodeExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".py", ".rb", ".cs", ".go", ".java", ".kt", ".php", ".rs", ".exs",
    };

    private const long MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>Scans <paramref name="path"/> (a folder or a file). <paramref name="engineHostScript"/> locates PGlite's extension bundles.</summary>
    public static CompatibilityReport Scan(string path, string? engineHostScript = null)
    {
        var script = engineHostScript ?? EngineHostLocator.Locate(null);
        var root = Path.GetFullPath(path);
        var isFile = File.Exists(root);
        if (!isFile && !Directory.Exists(root))
            throw new DirectoryNotFoundException($"{path} does not exist.");
        var baseDirectory = isFile ? Path.GetDirectoryName(root)! : root;

        var extensionEvidence = new Dictionary<string, List<Evidence>>(StringComparer.Ordinal);
        var drivers = new List<DriverFinding>();
        var warnings = new Dictionary<string, (string Message, List<Evidence> Evidence)>(StringComparer.Ordinal);
        var folders = new List<MigrationFolderFinding>();

        foreach (var file in isFile ? [root] : Files(root, folders))
        {
            var relative = Path.GetRelativePath(baseDirectory, file).Replace('\\', '/');
            var name = Path.GetFileName(file);
            var extension = Path.GetExtension(file);
            var isSql = extension.Equals(".sql", StringComparison.OrdinalIgnoreCase);
            var isPrisma = extension.Equals(".prisma", StringComparison.OrdinalIgnoreCase);
            var isMigrationCode = CodeExtensions.Contains(extension) && InMigrationDirectory(relative);
            var isConfig = name.StartsWith(".env", StringComparison.Ordinal) || name.StartsWith("appsettings", StringComparison.Ordinal)
                || name.StartsWith("docker-compose", StringComparison.Ordinal) || name.StartsWith("compose.", StringComparison.Ordinal);
            var isManifest = IsManifest(name);
            if (!(isSql || isPrisma || isMigrationCode || isConfig || isManifest) || (!isManifest && !isConfig && ForOtherDatabase(relative)))
                continue;
            string text;
            try
            {
                if (new FileInfo(file).Length > MaxFileBytes)
                    continue;
                text = File.ReadAllText(file);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                continue; // a dangling symlink (.env -> a file not checked in), a file that went away
            }
            if (isSql || isPrisma || isMigrationCode)
            {
                foreach (var (found, line, snippet) in ExtensionFinder.Find(text, isSql, isPrisma))
                {
                    var canonical = ExtensionCatalog.Find(script, found)?.Name ?? found;
                    if (ExtensionCatalog.BuiltIn.Contains(canonical))
                        continue;
                    if (!extensionEvidence.TryGetValue(canonical, out var list))
                        extensionEvidence[canonical] = list = [];
                    list.Add(new Evidence(relative, line, snippet));
                }
            }
            if (isSql || isPrisma || isMigrationCode || isConfig)
            {
                foreach (var (code, message, line, snippet) in WarningFinder.Find(text, isSql || isMigrationCode))
                {
                    if (!warnings.TryGetValue(code, out var entry))
                        warnings[code] = entry = (message, []);
                    entry.Evidence.Add(new Evidence(relative, line, snippet));
                }
            }
            if (isManifest)
                drivers.AddRange(DriverFinder.Find(relative, text));
        }

        var extensions = extensionEvidence
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => Classify(script, e.Key, Distinct(e.Value)))
            .ToList();
        var uniqueDrivers = drivers
            .GroupBy(d => (d.Ecosystem, d.Name, d.Evidence.File))
            .Select(g => g.First())
            .OrderBy(d => d.Ecosystem, StringComparer.Ordinal).ThenBy(d => d.Name, StringComparer.Ordinal).ThenBy(d => d.Evidence.File, StringComparer.Ordinal)
            .ToList();
        var warningList = warnings
            .OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => new CompatibilityWarning(w.Key, w.Value.Message, Distinct(w.Value.Evidence)))
            .ToList();
        var relativeFolders = folders
            .Select(f => f with { Path = Path.GetRelativePath(baseDirectory, f.Path).Replace('\\', '/') })
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return new CompatibilityReport(extensions, uniqueDrivers, warningList, Command(relativeFolders, extensions))
        {
            Migrations = relativeFolders,
        };
    }

    private static ExtensionFinding Classify(string script, string name, IReadOnlyList<Evidence> evidence)
    {
        if (ExtensionCatalog.Find(script, name) is { } bundled)
        {
            var fromCorePackage = bundled.BundlePath.Contains(Path.Combine("@electric-sql", "pglite", "dist"), StringComparison.Ordinal);
            return new ExtensionFinding(bundled.Name, fromCorePackage ? ExtensionStatus.Bundled : ExtensionStatus.Loadable, evidence);
        }
        return new ExtensionFinding(name, ExtensionStatus.NotAvailable, evidence)
        {
            Advice = $"PGlite does not ship {name}: run this app on native PostgreSQL with {name} installed, or remove its use.",
        };
    }

    private static IReadOnlyList<Evidence> Distinct(List<Evidence> evidence)
        => [.. evidence.Distinct().OrderBy(e => e.File, StringComparer.Ordinal).ThenBy(e => e.Line)];

    private static string Command(IReadOnlyList<MigrationFolderFinding> folders, IReadOnlyList<ExtensionFinding> extensions)
    {
        var parts = new List<string> { "zeropg", "serve", "--db", "./zeropg-data" };
        var available = extensions.Where(e => e.Status != ExtensionStatus.NotAvailable).Select(e => e.Name).ToList();
        if (folders.Count > 0)
        {
            if (available.Count > 0)
                parts.AddRange(["--extensions", "auto"]);
            foreach (var folder in folders)
                parts.AddRange(["--migrations", Quote(folder.Path)]);
        }
        else if (available.Count > 0)
        {
            parts.AddRange(["--extensions", string.Join(",", available)]);
        }
        return string.Join(" ", parts);
    }

    private static string Quote(string value)
        => value.All(c => char.IsLetterOrDigit(c) || c is '/' or '.' or '_' or '-') ? value : "'" + value.Replace("'", "'\\''") + "'";

    /// <summary>
    /// Migrations kept for another database engine beside the Postgres ones (umami keeps ClickHouse migrations in
    /// db/clickhouse/migrations): a path segment naming the engine, or a Prisma migration_lock.toml of another provider.
    /// </summary>
    private static bool ForOtherDatabase(string relative)
    {
        var segments = relative.ToLowerInvariant().Split('/');
        return segments.SkipLast(1).Any(OtherDatabases.Contains);
    }

    private static readonly HashSet<string> OtherDatabases = new(StringComparer.Ordinal)
    {
        "clickhouse", "mysql", "mariadb", "sqlite", "sqlite3", "mssql", "sqlserver", "oracle", "mongodb", "mongo", "cassandra", "duckdb",
    };

    private static bool IsManifest(string name)
        => name is "package.json" or "go.mod" or "Cargo.toml" or "Gemfile" or "composer.json" or "Pipfile" or "pyproject.toml" or "Directory.Packages.props"
           || name.EndsWith(".csproj", StringComparison.Ordinal)
           || (name.StartsWith("requirements", StringComparison.Ordinal) && name.EndsWith(".txt", StringComparison.Ordinal));

    private static bool InMigrationDirectory(string relative)
        => relative.Split('/').SkipLast(1).Any(MigrationDirectoryNames.Contains)
           || relative.Contains("/Migrations/", StringComparison.Ordinal) || relative.StartsWith("Migrations/", StringComparison.Ordinal);

    /// <summary>Every file worth reading, and (into <paramref name="folders"/>) the migration folders met on the way.</summary>
    private static IEnumerable<string> Files(string root, List<MigrationFolderFinding> folders)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            if (!ForOtherDatabase(Path.GetRelativePath(root, directory).Replace('\\', '/') + "/") && MigrationFolder.Detect(directory) is { } folder)
                folders.Add(new MigrationFolderFinding(folder.Path, folder.Kind.ToString().ToLowerInvariant(), folder.Files.Count)
                {
                    Problems = [.. folder.TransactionProblems().Select(p => new MigrationProblem(
                        new Evidence(Path.GetRelativePath(root, p.File.Path).Replace('\\', '/'), p.Line, p.Statement.Length > 120 ? p.Statement[..120] + " ..." : p.Statement), p.Message))],
                });
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(directory).ToList();
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var entry in entries.Order(StringComparer.Ordinal))
            {
                if (Directory.Exists(entry))
                {
                    var name = Path.GetFileName(entry);
                    if (!SkippedDirectories.Contains(name) && (File.GetAttributes(entry) & FileAttributes.ReparsePoint) == 0)
                        pending.Push(entry);
                }
                else
                {
                    yield return entry;
                }
            }
        }
    }
}
