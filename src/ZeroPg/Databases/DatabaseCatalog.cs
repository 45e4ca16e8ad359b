using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Sessions;
using ZeroPg.Sql;

namespace ZeroPg.Databases;

/// <summary>
/// The server's databases by name: postgres (the server's own engine) and those made with CREATE DATABASE,
/// each an engine of its own (<see cref="DatabaseEntry"/>) with its own scheduler, statements, notifications,
/// roles and engine state, sharing the server's registry, options, metrics and TLS. Database commands run
/// one at a time (<see cref="_commands"/>); the name table is owned by <see cref="_gate"/>. Under --db DIR the
/// databases are the clusters in DIR/.zeropg-databases and survive restarts; with memory:// they live (and
/// end) with the server, their seed tars in a temporary folder.
/// </summary>
internal sealed partial class DatabaseCatalog : IAsyncDisposable
{
    /// <summary>As Postgres's CountOtherDBBackends: other sessions get 5 s to leave before a database in use is refused.</summary>
    private static readonly TimeSpan LeaveWait = TimeSpan.FromSeconds(5);

    private readonly ZeroPgOptions _options;
    private readonly SessionServices _primary;
    private readonly Func<DatabaseSite, SessionServices> _create;
    private readonly DatabaseForge _forge;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DatabaseEntry> _entries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _commands = new(1, 1);
    private readonly string _folder;
    private readonly CancellationTokenSource _stopping = new();
    private Task _idleLoop = Task.CompletedTask;

    public DatabaseCatalog(ZeroPgOptions options, SessionServices primary, ILoggerFactory loggerFactory)
    {
        _options = options;
        _primary = primary;
        _logger = loggerFactory.CreateLogger("ZeroPg.Databases");
        _forge = new DatabaseForge(options, _logger);
        _create = site => new SessionServices(options, new EngineSupervisor(options, primary.Metrics, loggerFactory.CreateLogger<EngineSupervisor>(), site),
            new EngineScheduler(), primary.Registry, new Sessions.Statements.StatementCatalog(options.AutoPrepareMaxStatements), primary.Metrics, primary.Tls, loggerFactory)
        {
            Databases = this,
        };
        primary.Databases = this;
        _entries[DatabaseSite.PrimaryName] = new DatabaseEntry(primary);
        _folder = options.IsMemory
            ? Path.Combine(Path.GetTempPath(), $"zeropg-databases-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40])
            : Path.Combine(Path.GetFullPath(options.DataDirectory), DatabaseSite.FolderName);
    }

    /// <summary>Reads the databases kept under --db DIR and starts the idle check.</summary>
    public void Open()
    {
        if (!_options.IsMemory && Directory.Exists(_folder))
        {
            foreach (var directory in new DirectoryInfo(_folder).EnumerateDirectories())
            {
                var seed = SeedPath(directory.Name);
                if (File.Exists(Path.Combine(directory.FullName, "PG_VERSION")))
                    Add(new DatabaseSite(directory.Name, directory.FullName, null, false));
                else if (File.Exists(seed))
                    Add(new DatabaseSite(directory.Name, directory.FullName, seed, false));
            }
        }
        if (!_options.IsMemory && _options.DatabaseIdleTimeout > TimeSpan.Zero)
            _idleLoop = StopIdleEnginesAsync(_stopping.Token);
    }

    /// <summary>The postgres database's services: its engine holds the cluster's roles (see <see cref="Sessions.ClientSession"/>'s login).</summary>
    public SessionServices Primary => _primary;

    /// <summary>The services of the databases whose engines run now (postgres always), for metrics summed over engines.</summary>
    public IReadOnlyList<SessionServices> Running
    {
        get
        {
            lock (_gate)
                return [.. _entries.Values.Select(e => e.RunningServices).OfType<SessionServices>()];
        }
    }

    /// <summary>The names of the databases, postgres first.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
                return [DatabaseSite.PrimaryName, .. _entries.Keys.Where(n => n != DatabaseSite.PrimaryName).Order(StringComparer.Ordinal)];
        }
    }

    public DatabaseEntry? Find(string name)
    {
        lock (_gate)
            return _entries.GetValueOrDefault(name);
    }

    /// <summary>Runs CREATE / DROP / ALTER DATABASE ... RENAME for a client of <paramref name="current"/>; returns a notice to send, if any.</summary>
    public async Task<PgError?> RunAsync(DatabaseStatement statement, SessionServices current, CancellationToken cancellationToken)
    {
        await _commands.WaitAsync(cancellationToken);
        try
        {
            switch (statement.Kind)
            {
                case DatabaseCommandKind.Create:
                    await CreateAsync(statement, current, cancellationToken);
                    return null;
                case DatabaseCommandKind.Drop:
                    return await DropAsync(statement, current);
                default:
                    await RenameAsync(statement, current, cancellationToken);
                    return null;
            }
        }
        finally
        {
            _commands.Release();
        }
    }

    private async Task CreateAsync(DatabaseStatement statement, SessionServices current, CancellationToken cancellationToken)
    {
        var name = statement.Name;
        CheckNewName(name);
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(_folder);
        var seed = SeedPath(name);
        var template = statement.Template is "template0" or "template1" ? null : statement.Template;
        if (template is null)
        {
            await _forge.ForgeAsync(_primary.Engine.Launcher, null, DatabaseSite.PrimaryName, [$"CREATE DATABASE {Quote(name)} STRATEGY FILE_COPY"], seed, cancellationToken);
        }
        else
        {
            var source = Find(template) ?? throw new PgErrorException(DatabaseErrors.MissingTemplate(template));
            await WaitForOthersAsync(source, current, sourceOfCopy: true);
            var dump = Path.Combine(_folder, $".template-{Guid.NewGuid():N}.tar");
            try
            {
                await source.DumpAsync(dump);
                // The template's cluster, its database renamed (postgres's from template1, then a postgres made again).
                IReadOnlyList<string> statements = template == DatabaseSite.PrimaryName
                    ? [$"ALTER DATABASE postgres RENAME TO {Quote(name)}", "CREATE DATABASE postgres STRATEGY FILE_COPY"]
                    : [$"ALTER DATABASE {Quote(template)} RENAME TO {Quote(name)}"];
                await _forge.ForgeAsync(_primary.Engine.Launcher, dump, template == DatabaseSite.PrimaryName ? "template1" : DatabaseSite.PrimaryName, statements, seed, cancellationToken);
            }
            finally
            {
                File.Delete(dump);
            }
        }
        var entry = Add(new DatabaseSite(name, _options.IsMemory ? ZeroPgOptions.MemoryDatabase : Path.Combine(_folder, name), seed, false));
        if (!_options.IsMemory)
            Directory.CreateDirectory(entry.Site.DataDirectory); // marks the database as kept; its seed fills it on first start
        Log.Created(_logger, name, statement.Template ?? "template1", clock.ElapsedMilliseconds, statement.IgnoredOptions.Count > 0 ? string.Join(", ", statement.IgnoredOptions) : "none");
        _ = WarmUpAsync(entry); // the first client finds the engine started
    }

    private static async Task WarmUpAsync(DatabaseEntry entry)
    {
        try
        {
            await entry.EnterAsync();
            entry.Leave();
        }
        catch (Exception)
        {
            // The first client's start reports what is wrong.
        }
    }

    private async Task<PgError?> DropAsync(DatabaseStatement statement, SessionServices current)
    {
        var name = statement.Name;
        if (name == current.DatabaseName)
            throw new PgErrorException(DatabaseErrors.DropCurrent);
        if (name == DatabaseSite.PrimaryName)
            throw new PgErrorException(DatabaseErrors.PrimaryFixed("drop"));
        if (Find(name) is not { } entry)
            return statement.IfExists ? PgError.Notice($"database \"{name}\" does not exist, skipping") : throw new PgErrorException(DatabaseErrors.Missing(name));
        if (statement.Force)
        {
            foreach (var session in _primary.Registry.Sessions)
            {
                if (session.Services.DatabaseName == name)
                    session.RequestShutdown(); // FATAL 57P01 terminating connection due to administrator command
            }
        }
        await WaitForOthersAsync(entry, current, sourceOfCopy: false);
        if (!await entry.RetireAsync(dumpTo: null))
            throw new PgErrorException(DatabaseErrors.InUse(name, entry.Clients));
        Remove(entry);
        DeleteFiles(entry.Site);
        Log.Dropped(_logger, name);
        return null;
    }

    private async Task RenameAsync(DatabaseStatement statement, SessionServices current, CancellationToken cancellationToken)
    {
        var (name, newName) = (statement.Name, statement.NewName!);
        if (name == DatabaseSite.PrimaryName)
            throw new PgErrorException(DatabaseErrors.PrimaryFixed("rename"));
        if (Find(name) is not { } entry)
            throw new PgErrorException(DatabaseErrors.Missing(name));
        CheckNewName(newName);
        if (name == current.DatabaseName)
            throw new PgErrorException(DatabaseErrors.RenameCurrent);
        await WaitForOthersAsync(entry, current, sourceOfCopy: false);
        var dump = Path.Combine(_folder, $".rename-{Guid.NewGuid():N}.tar");
        Directory.CreateDirectory(_folder);
        try
        {
            if (!await entry.RetireAsync(dump))
                throw new PgErrorException(DatabaseErrors.InUse(name, entry.Clients));
            Remove(entry);
            var seed = SeedPath(newName);
            await _forge.ForgeAsync(_primary.Engine.Launcher, dump, DatabaseSite.PrimaryName, [$"ALTER DATABASE {Quote(name)} RENAME TO {Quote(newName)}"], seed, cancellationToken);
            var renamed = Add(new DatabaseSite(newName, _options.IsMemory ? ZeroPgOptions.MemoryDatabase : Path.Combine(_folder, newName), seed, false));
            if (!_options.IsMemory)
                Directory.CreateDirectory(renamed.Site.DataDirectory);
            DeleteFiles(entry.Site);
        }
        finally
        {
            File.Delete(dump);
        }
    }

    /// <summary>Waits (as Postgres does, up to 5 s) until no other client uses the database, else 55006.</summary>
    private static async Task WaitForOthersAsync(DatabaseEntry entry, SessionServices current, bool sourceOfCopy)
    {
        var self = current.DatabaseName == entry.Name ? 1 : 0;
        var deadline = Stopwatch.StartNew();
        while (entry.Clients - self > 0)
        {
            if (deadline.Elapsed > LeaveWait)
                throw new PgErrorException(DatabaseErrors.InUse(entry.Name, entry.Clients - self, sourceOfCopy));
            await Task.Delay(50);
        }
    }

    private void CheckNewName(string name)
    {
        if (name is "template0" or "template1")
            throw new PgErrorException(DatabaseErrors.Reserved(name));
        if (Find(name) is not null)
            throw new PgErrorException(DatabaseErrors.Exists(name));
        // Each database on disk is a folder of its name: keep names that are safe as one.
        var valid = name.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(name) <= 63 && name[0] != '.'
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
        if (!valid)
            throw new PgErrorException(DatabaseErrors.BadName(name));
    }

    private DatabaseEntry Add(DatabaseSite site)
    {
        var entry = new DatabaseEntry(site, _create);
        lock (_gate)
            _entries[site.Name] = entry;
        return entry;
    }

    private void Remove(DatabaseEntry entry)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(entry.Name, out var known) && ReferenceEquals(known, entry))
                _entries.Remove(entry.Name);
        }
    }

    private void DeleteFiles(DatabaseSite site)
    {
        if (site.Seed is { } seed)
            File.Delete(seed);
        File.Delete(SeedPath(site.Name));
        if (!site.IsMemory && Directory.Exists(site.DataDirectory))
            Directory.Delete(site.DataDirectory, recursive: true);
    }

    private string SeedPath(string name) => _options.IsMemory
        ? Path.Combine(_folder, $"{Guid.NewGuid():N}.tar") // memory:// names need not be file names
        : Path.Combine(_folder, $"{name}.seed.tar");

    private static string Quote(string name) => $"\"{name.Replace("\"", "\"\"")}\"";

    private async Task StopIdleEnginesAsync(CancellationToken stopping)
    {
        var idle = _options.DatabaseIdleTimeout;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(idle.TotalMilliseconds / 4, 100, 10_000)));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                List<DatabaseEntry> entries;
                lock (_gate)
                    entries = [.. _entries.Values];
                foreach (var entry in entries)
                {
                    try
                    {
                        await entry.StopIfIdleAsync(idle);
                    }
                    catch (Exception error) when (error is not OperationCanceledException)
                    {
                        Log.StopFailed(_logger, entry.Name, error.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops every database's engine but postgres's (the server stops that one itself); memory:// seeds are deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _idleLoop;
        List<DatabaseEntry> entries;
        lock (_gate)
            entries = [.. _entries.Values];
        await Task.WhenAll(entries.Select(e => e.StopAsync()));
        if (_options.IsMemory && Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "database {Name} created from {Template} in {Milliseconds} ms (options ignored: {Ignored})")]
        public static partial void Created(ILogger logger, string name, string template, long milliseconds, string ignored);

        [LoggerMessage(Level = LogLevel.Information, Message = "database {Name} dropped")]
        public static partial void Dropped(ILogger logger, string name);

        [LoggerMessage(Level = LogLevel.Warning, Message = "stopping the idle engine of database {Name} failed: {Message}")]
        public static partial void StopFailed(ILogger logger, string name, string message);
    }
}
