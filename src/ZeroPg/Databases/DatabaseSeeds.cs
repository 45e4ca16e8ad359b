using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Databases;

/// <summary>
/// The tars new databases' engines start from (<see cref="DatabaseSpares"/>):
/// - an empty database: the snapshot cache's cluster plus a database <see cref="EmptyName"/> (oid <see cref="EngineOid"/>), made
///   once by a preparation engine (<see cref="DatabaseForge"/>) and kept beside the snapshot, so every server on the machine reuses it;
/// - a copy of template t: t's cluster (as after a clean shutdown where it can be: the tar a memory:// t sleeps in, t's directory
///   once its engine stopped; else a dump of its running engine: the catalog's CopyTemplateAsync), opened on t and renamed (no preparation engine), kept while no client entered t since
///   (<see cref="DatabaseEntry.Version"/>). postgres and template1 are copied through a preparation engine
///   instead (CREATE DATABASE ... TEMPLATE inside their cluster), so each copy is a database of its own beside them.
/// The seeds live in the databases' folder, which <c>folder</c> gives, made if it is not there yet.
/// Thread safety: <see cref="_gate"/> owns the template table; one dump per template at a time (the catalog runs one command at a time).
/// A seed file is made under <see cref="SeedGate"/>, one per path for the whole process: the cached seeds are the machine's, and
/// servers of one process (parallel test classes' fixtures) ask for the same one at once; the second waits and reuses it.
/// </summary>
internal sealed class DatabaseSeeds(ZeroPgOptions options, DatabaseForge forge, Func<EngineLauncher> primaryLauncher, Func<string> folder, ILogger logger)
{
    /// <summary>The database of a spare engine before CREATE DATABASE names it.</summary>
    public const string EmptyName = "zeropg_new_database";

    /// <summary>The oid of the database a ZeroPg-made cluster serves (the first a fresh cluster gives), unless it copies a template that has another.</summary>
    public const uint EngineOid = 16384;

    /// <summary>A kept dump of a template: its file, the template's version it shows, the extensions its copies preload, the database in it the copy starts as.</summary>
    private sealed record TemplateSeed(string Path, long Version, IReadOnlyList<string> Extensions, string Database, uint EngineOid);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, TemplateSeed> _templates = new(StringComparer.Ordinal);
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> SeedGates = new(StringComparer.Ordinal);

    /// <summary>The seed of a new empty database: <see cref="EmptyName"/> in a fresh cluster.</summary>
    public async Task<DatabaseSite> EmptyAsync(CancellationToken cancellationToken)
    {
        var launcher = primaryLauncher();
        var cached = launcher.SnapshotPath is not null && options.UseSnapshotCache;
        var path = cached
            ? Path.ChangeExtension(launcher.SnapshotPath!, ".database.tar")
            : Path.Combine(folder(), ".empty-database.tar");
        var gate = SeedGate(path);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!IsWhole(path))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await forge.ForgeAsync(launcher, null, DatabaseSite.PrimaryName,
                    [$"CREATE DATABASE {EmptyName} OID {EngineOid} STRATEGY FILE_COPY"], path, cancellationToken);
            }
            else
            {
                Touch(path); // the snapshot cache prunes by last use
            }
        }
        finally
        {
            gate.Release();
        }
        return new DatabaseSite(EmptyName, ZeroPgOptions.MemoryDatabase, path, false);
    }

    /// <summary>A tar of a fresh cluster (postgres, template0, template1): the snapshot cache's, else one made once in the databases' folder.</summary>
    public async Task<string> FreshClusterAsync(CancellationToken cancellationToken)
    {
        var launcher = primaryLauncher();
        if (options.UseSnapshotCache && launcher.SnapshotPath is { } snapshot)
        {
            if (!IsWhole(snapshot))
                await EmptyAsync(cancellationToken); // its preparation engine writes the missing snapshot
            if (IsWhole(snapshot))
            {
                Touch(snapshot);
                return snapshot;
            }
        }
        var path = Path.Combine(folder(), ".fresh-cluster.tar");
        var gate = SeedGate(path);
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!IsWhole(path))
            {
                await forge.ForgeAsync(launcher, null, DatabaseSite.PrimaryName, [], path, cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
        return path;
    }

    /// <summary>
    /// The seed of a copy of <paramref name="template"/> as it is now: the kept one of this version, else one written by
    /// <paramref name="copy"/> (the template's cluster to a path; its extensions). Null <paramref name="copy"/> (a spare
    /// prepared in the background, beside the catalog's commands): the kept one only.
    /// </summary>
    public async Task<DatabaseSite> TemplateAsync(DatabaseEntry template, Func<string, Task<IReadOnlyList<string>>>? copy, CancellationToken cancellationToken)
    {
        var version = template.Version;
        TemplateSeed? kept;
        lock (_gate)
            kept = _templates.GetValueOrDefault(template.Name);
        if (kept is null || kept.Version != version || !File.Exists(kept.Path))
        {
            if (copy is null)
                throw new InvalidOperationException($"\"{template.Name}\" changed since its last copy; its next copy is made when CREATE DATABASE asks for it");
            var made = folder();
            var dump = Path.Combine(made, $".template-{Guid.NewGuid():N}.tar");
            var extensions = await copy(dump);
            var seedDatabase = template.Name;
            var engineOid = template.Site.EngineOid;
            if (template.Name is DatabaseSite.PrimaryName or "template1")
            {
                // Renaming postgres or template1 would take it out of the copy's cluster: copy it inside the cluster instead.
                var forged = Path.Combine(made, $".template-{Guid.NewGuid():N}.tar");
                try
                {
                    await forge.ForgeAsync(primaryLauncher(), dump, template.Name == "template1" ? DatabaseSite.PrimaryName : "template1",
                        [$"CREATE DATABASE {EmptyName} TEMPLATE {template.Name} OID {EngineOid} STRATEGY FILE_COPY"], forged, cancellationToken);
                }
                finally
                {
                    File.Delete(dump);
                }
                dump = forged;
                seedDatabase = EmptyName;
                engineOid = EngineOid;
            }
            kept = new TemplateSeed(dump, version, extensions, seedDatabase, engineOid);
            TemplateSeed? replaced;
            lock (_gate)
            {
                replaced = _templates.GetValueOrDefault(template.Name);
                _templates[template.Name] = kept;
            }
            if (replaced is not null)
                Release(replaced.Path);
        }
        return new DatabaseSite(kept.Database, ZeroPgOptions.MemoryDatabase, kept.Path, false) { Extensions = kept.Extensions, EngineOid = kept.EngineOid };
    }

    /// <summary>True when the copy of <paramref name="template"/> kept here shows it as it is now (a spare may be prepared from it).</summary>
    public bool HasCopyOf(DatabaseEntry template)
    {
        var version = template.Version;
        lock (_gate)
            return _templates.TryGetValue(template.Name, out var kept) && kept.Version == version;
    }

    /// <summary>The template's kept dump no longer matches it (dropped, renamed): forgotten, its file deleted unless an engine may restart from it.</summary>
    public void Forget(string template)
    {
        TemplateSeed? gone;
        lock (_gate)
        {
            _templates.Remove(template, out gone);
        }
        if (gone is not null)
            Release(gone.Path);
    }

    /// <summary>Set by the catalog: a memory:// database's engine restarts (after a crash) from the tar it started from, so that tar stays while it lives.</summary>
    public Func<string, bool> InUse { get; set; } = _ => false;

    /// <summary>Deletes a dump that is no longer kept, unless a memory:// database still starts from it (then the catalog deletes it with that database).</summary>
    public void Release(string path)
    {
        bool kept;
        lock (_gate)
            kept = _templates.Values.Any(t => t.Path == path);
        if (kept || InUse(path) || !Path.GetFileName(path).StartsWith(".template-", StringComparison.Ordinal))
            return;
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for the next start's clean-up.
        }
    }

    /// <summary>The process's one gate for making the seed at <paramref name="path"/> (a handful of paths per process: never removed).</summary>
    private static SemaphoreSlim SeedGate(string path) => SeedGates.GetOrAdd(Path.GetFullPath(path), _ => new SemaphoreSlim(1, 1));

    /// <summary>A tar written whole (more than a header, in whole blocks): a seed engines may start from.</summary>
    internal static bool IsWhole(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && info.Length > 1 << 20 && info.Length % 512 == 0;
    }

    private void Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            logger.LogDebug("the seed {Path} could not be touched: {Message}", path, error.Message);
        }
    }
}
