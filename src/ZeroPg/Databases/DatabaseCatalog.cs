using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Sessions;
using ZeroPg.Sql;

namespace ZeroPg.Databases;

/// <summary>
/// The server's databases by name: postgres (the server's own engine), template1 (made on its first connection) and those
/// made with CREATE DATABASE, each an engine of its own (<see cref="DatabaseEntry"/>) with its own scheduler, statements,
/// notifications, roles and engine state, sharing the server's registry, options, metrics and TLS. A new database's engine
/// is a spare started ahead or when asked (<see cref="DatabaseSpares"/>, from <see cref="DatabaseSeeds"/>), renamed in
/// place. Database commands run one at a time (<see cref="_commands"/>); the name table is owned by <see cref="_gate"/>.
/// Under --db DIR the databases are the clusters in DIR/.zeropg-databases and survive restarts; with memory:// they live
/// (and end) with the server, their seeds, and the tars idle ones sleep in, in a temporary folder.
/// </summary>
internal sealed partial class DatabaseCatalog : IAsyncDisposable
{
    /// <summary>As Postgres's CountOtherDBBackends: other sessions get 5 s to leave before a database in use is refused.</summary>
    private static readonly TimeSpan LeaveWait = TimeSpan.FromSeconds(5);

    public const string TemplateOne = "template1";
    public const string TemplateZero = "template0";

    /// <summary>template1's oid in every cluster initdb makes (its engine serves that very database).</summary>
    private const uint TemplateOneOid = 1;

    private readonly ZeroPgOptions _options;
    private readonly SessionServices _primary;
    private readonly Func<DatabaseSite, SessionServices> _create;
    private readonly DatabaseSeeds _seeds;
    private readonly DatabaseSpares _spares;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, DatabaseEntry> _entries = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _commands = new(1, 1);
    private readonly string _folder;
    private readonly Hosting.OwnedTempFolder? _memoryFolder; // memory://: the seeds' folder, made on first use, removed at the stop
    private readonly CancellationTokenSource _stopping = new();
    private Task _idleLoop = Task.CompletedTask;
    private Storage.MemoryWalCheckpoints? _walCheckpoints;

    public DatabaseCatalog(ZeroPgOptions options, SessionServices primary, ILoggerFactory loggerFactory)
    {
        _options = options;
        _primary = primary;
        _logger = loggerFactory.CreateLogger("ZeroPg.Databases");
        _create = site => new SessionServices(options, new EngineSupervisor(options, primary.Metrics, loggerFactory.CreateLogger<EngineSupervisor>(), site),
            new EngineScheduler(), primary.Registry, new Sessions.Statements.StatementCatalog(options.AutoPrepareMaxStatements), primary.Metrics, primary.Tls, loggerFactory)
        {
            Databases = this,
        };
        primary.Databases = this;
        _entries[DatabaseSite.PrimaryName] = new DatabaseEntry(primary);
        _memoryFolder = options.IsMemory ? new Hosting.OwnedTempFolder(Hosting.KilledProcessLeftovers.Databases) : null;
        _folder = _memoryFolder?.Path ?? Path.Combine(Path.GetFullPath(options.DataDirectory), DatabaseSite.FolderName);
        _seeds = new DatabaseSeeds(options, new DatabaseForge(options, _logger), () => _primary.Engine.Launcher, Folder, _logger) { InUse = SeedInUse };
        _spares = new DatabaseSpares(options, _create, _folder, _logger);
        Listing = new DatabaseListing(Entries);
        Slots = new Replication.Slots.ClusterSlots(Entries);
    }

    /// <summary>Reads the databases kept under --db DIR, clears what a previous run left half-made, and starts the idle check (memory://: the WAL checkpoints).</summary>
    public void Open()
    {
        if (!_options.IsMemory && Directory.Exists(_folder))
        {
            foreach (var leftover in new DirectoryInfo(_folder).EnumerateFileSystemInfos(".*"))
            {
                // A spare never claimed, a template's dump: the previous run's, of no use now.
                if (leftover.Name.StartsWith(DatabaseSpares.FolderPrefix, StringComparison.Ordinal) && leftover is DirectoryInfo spare)
                    spare.Delete(recursive: true);
                else if (leftover.Name.StartsWith(".template-", StringComparison.Ordinal))
                    leftover.Delete();
            }
            foreach (var directory in new DirectoryInfo(_folder).EnumerateDirectories())
            {
                if (directory.Name.StartsWith('.'))
                    continue;
                var seed = Path.Combine(_folder, $"{directory.Name}.seed.tar"); // made by an earlier version, whose first start never came
                var kept = DatabaseMetadata.Read(directory.FullName)
                    ?? (directory.Name == TemplateOne ? new(TemplateOneOid, TemplateOneOid) : new(NextOid(), DatabaseSeeds.EngineOid));
                if (File.Exists(Path.Combine(directory.FullName, "PG_VERSION")))
                    Add(new DatabaseSite(directory.Name, directory.FullName, null, false) { EngineOid = kept.EngineOid }, kept.Oid);
                else if (File.Exists(seed))
                    Add(new DatabaseSite(directory.Name, directory.FullName, seed, false) { EngineOid = kept.EngineOid }, kept.Oid);
                else
                    continue;
                DatabaseMetadata.Write(directory.FullName, kept.Oid, kept.EngineOid);
            }
        }
        if (_spares.Wanted(created: false))
            _spares.Prepare(SpareKind.Empty, () => _seeds.EmptyAsync(_stopping.Token));
        if (_options.DatabaseIdleTimeout > TimeSpan.Zero)
            _idleLoop = StopIdleEnginesAsync(_stopping.Token);
        _walCheckpoints = Storage.MemoryWalCheckpoints.Start(_options, () => Running, _logger);
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

    /// <summary>The spare engine and what it will become, once it has started (/metrics, the dashboard, tests).</summary>
    internal (EngineProcess Engine, SpareKind Kind)? Spare => _spares.Ready;

    public DatabaseEntry? Find(string name)
    {
        lock (_gate)
            return _entries.GetValueOrDefault(name);
    }

    /// <summary>
    /// The database a client connects to: template1 is made on its first connection (an empty database, as initdb leaves it,
    /// kept like any other); template0 does not accept connections, as in Postgres.
    /// </summary>
    public async Task<DatabaseEntry> ConnectAsync(string name, CancellationToken cancellationToken)
    {
        if (Find(name) is { } entry)
            return entry;
        if (name == TemplateZero)
            throw new PgErrorException(DatabaseErrors.NotAcceptingConnections(name));
        if (name != TemplateOne)
            throw new PgErrorException(DatabaseErrors.Missing(name, fatal: true));
        await _commands.WaitAsync(cancellationToken);
        try
        {
            if (Find(name) is { } made)
                return made;
            var seed = await _seeds.FreshClusterAsync(cancellationToken);
            var site = new DatabaseSite(TemplateOne, _options.IsMemory ? ZeroPgOptions.MemoryDatabase : Path.Combine(_folder, TemplateOne), seed, false)
            {
                EngineOid = TemplateOneOid,
            };
            if (!_options.IsMemory)
            {
                Directory.CreateDirectory(site.DataDirectory);
                DatabaseMetadata.Write(site.DataDirectory, TemplateOneOid, TemplateOneOid);
            }
            return Add(site, TemplateOneOid);
        }
        finally
        {
            _commands.Release();
        }
    }

    /// <summary>The server's databases as clients' catalog reads see them (pg_database, pg_database_size, has_database_privilege).</summary>
    public DatabaseListing Listing { get; }

    /// <summary>Every database's replication slots, as Postgres's cluster-wide ones (pg_replication_slots, names, max_replication_slots).</summary>
    public Replication.Slots.ClusterSlots Slots { get; }

    private IReadOnlyList<DatabaseEntry> Entries()
    {
        lock (_gate)
            return [.. _entries.Values];
    }

    /// <summary>
    /// Runs CREATE / DROP / ALTER DATABASE ... RENAME for a client of <paramref name="current"/>; returns a notice to send, if any.
    /// <paramref name="keepSpare"/> false: a CREATE that does not hint at more to come (the server's start database) leaves no spare behind.
    /// </summary>
    public async Task<PgError?> RunAsync(DatabaseStatement statement, SessionServices current, CancellationToken cancellationToken, bool keepSpare = true)
    {
        await _commands.WaitAsync(cancellationToken);
        try
        {
            switch (statement.Kind)
            {
                case DatabaseCommandKind.Create:
                    await CreateAsync(statement, current, keepSpare, cancellationToken);
                    return null;
                case DatabaseCommandKind.Drop:
                    return await DropAsync(statement, current);
                default:
                    await RenameAsync(statement, current);
                    return null;
            }
        }
        finally
        {
            _commands.Release();
        }
    }

    private async Task CreateAsync(DatabaseStatement statement, SessionServices current, bool keepSpare, CancellationToken cancellationToken)
    {
        var name = statement.Name;
        CheckNewName(name);
        var clock = Stopwatch.StartNew();
        Folder();
        // As Postgres: no TEMPLATE is template1. template1 never connected to is as initdb made it: an empty database.
        var templateName = statement.Template ?? TemplateOne;
        var template = templateName == TemplateZero ? null : Find(templateName);
        if (template is null && templateName is not (TemplateZero or TemplateOne))
            throw new PgErrorException(DatabaseErrors.MissingTemplate(templateName));
        SpareKind kind;
        Func<Task<DatabaseSite>> seed;
        if (template is null)
        {
            kind = SpareKind.Empty;
            seed = () => _seeds.EmptyAsync(_stopping.Token);
        }
        else
        {
            await WaitForOthersAsync(template, current, sourceOfCopy: true);
            kind = new SpareKind(template.Name, template.Version);
            seed = () => _seeds.TemplateAsync(template, path => CopyTemplateAsync(template, path), _stopping.Token);
        }
        var services = await _spares.TakeAsync(kind, seed, cancellationToken);
        var taken = clock.ElapsedMilliseconds;
        var spare = services.Engine.Site;
        var site = new DatabaseSite(name, _options.IsMemory ? ZeroPgOptions.MemoryDatabase : Path.Combine(_folder, name), _options.IsMemory ? spare.Seed : null, false)
        {
            // A memory:// engine that dies restarts from its seed, as the database it was made as.
            SeedDatabase = _options.IsMemory ? spare.SeedDatabase ?? spare.Name : null,
            Extensions = spare.Extensions,
            EngineOid = spare.EngineOid,
        };
        var oid = NextOid();
        try
        {
            if (!_options.IsMemory)
                DatabaseMetadata.Write(spare.DataDirectory, oid, site.EngineOid); // moves with the folder
            await services.Engine.RelocateAsync(site);
        }
        catch
        {
            // Not moved (the move is the relocation's last step that can fail): the spare's own folder goes.
            await services.Engine.DisposeAsync();
            if (!spare.IsMemory && Directory.Exists(spare.DataDirectory))
                Directory.Delete(spare.DataDirectory, recursive: true);
            throw;
        }
        Add(services, oid);
        Log.Created(_logger, name, template?.Name ?? "an empty database", taken, clock.ElapsedMilliseconds,
            statement.IgnoredOptions.Count > 0 ? string.Join(", ", statement.IgnoredOptions) : "none");
        if (!keepSpare || !_spares.Wanted(created: true))
            return;
        if (template is null)
            _spares.Prepare(kind, seed);
        else if (Find(template.Name) is not null && _seeds.HasCopyOf(template)) // a template changed since is copied by the next CREATE
            _spares.Prepare(new SpareKind(template.Name, template.Version), () => _seeds.TemplateAsync(template, copy: null, _stopping.Token));
    }

    /// <summary>
    /// Writes template <paramref name="template"/>'s cluster to <paramref name="path"/> for its copies (one of the catalog's commands:
    /// CREATE DATABASE runs it), as after a clean shutdown, so its unlogged tables' rows reach the copy, as Postgres copies them:
    /// a memory:// template with no client is put to sleep for it (its next client wakes it) and its tar copied; one on disk
    /// has its engine stopped and its directory written to the tar (its next client starts it again). Else (postgres, a
    /// template whose own client asks for the copy, one too large to sleep) a dump of its running engine, which a copy starts
    /// from with crash recovery: its unlogged tables are empty there.
    /// </summary>
    private async Task<IReadOnlyList<string>> CopyTemplateAsync(DatabaseEntry template, string path)
    {
        if (template.Site.IsPrimary)
            return await template.DumpAsync(path); // its engine never stops
        var extensions = _options.IsMemory
            ? await CopySleepingAsync(template, path)
            : await template.StopAndCopyAsync(directory => Task.Run(() => Storage.DataDirectoryTar.Write(directory, path)));
        return extensions ?? await template.DumpAsync(path);
    }

    /// <summary>memory://: the template put to sleep, its tar copied (whole or absent; the tar stays its own); null when it stays awake.</summary>
    private async Task<IReadOnlyList<string>?> CopySleepingAsync(DatabaseEntry template, string path)
    {
        await SleepHeldAsync(template, TimeSpan.Zero, "for a copy (CREATE DATABASE ... TEMPLATE)");
        if (template.SleepingIn is not { } tar)
            return null;
        try
        {
            await Task.Run(() => File.Copy(tar, path));
        }
        catch
        {
            File.Delete(path);
            throw;
        }
        return template.Site.Extensions;
    }

    private async Task<PgError?> DropAsync(DatabaseStatement statement, SessionServices current)
    {
        var name = statement.Name;
        if (name == current.DatabaseName)
            throw new PgErrorException(DatabaseErrors.DropCurrent);
        if (name is TemplateZero or TemplateOne)
            throw new PgErrorException(DatabaseErrors.DropTemplate);
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
        if (!await entry.RetireAsync())
            throw new PgErrorException(DatabaseErrors.InUse(name, entry.Clients));
        Remove(entry);
        Forget(name);
        DeleteFiles(entry.Site);
        Log.Dropped(_logger, name);
        return null;
    }

    /// <summary>ALTER DATABASE x RENAME TO y: x's engine (started for it when stopped) is renamed in place and its folder moved; no copy.</summary>
    private async Task RenameAsync(DatabaseStatement statement, SessionServices current)
    {
        var (name, newName) = (statement.Name, statement.NewName!);
        if (name == DatabaseSite.PrimaryName)
            throw new PgErrorException(DatabaseErrors.PrimaryFixed("rename"));
        if (name is TemplateZero or TemplateOne)
            throw new PgErrorException(DatabaseErrors.TemplateFixed);
        if (Find(name) is not { } entry)
            throw new PgErrorException(DatabaseErrors.Missing(name));
        CheckNewName(newName);
        if (name == current.DatabaseName)
            throw new PgErrorException(DatabaseErrors.RenameCurrent);
        await WaitForOthersAsync(entry, current, sourceOfCopy: false);
        var services = await entry.HandOverAsync() ?? throw new PgErrorException(DatabaseErrors.InUse(name, entry.Clients));
        if (services.EngineState.SessionAuthorization is not null)
        {
            // Its last client's role may still be the engine session's: the rename is the superuser's.
            await OwnSql.RunAsync(await services.Engine.GetAsync(), TimeSpan.FromSeconds(30), EngineStateRestore.SwitchSql(null));
            services.EngineState.SessionAuthorization = null;
        }
        var before = services.Engine.Site;
        var site = before with { Name = newName, DataDirectory = before.IsMemory ? before.DataDirectory : Path.Combine(_folder, newName), Seed = before.IsMemory ? before.Seed : null };
        try
        {
            await services.Engine.RelocateAsync(site);
        }
        catch
        {
            entry.TakeBack(services);
            throw;
        }
        Remove(entry);
        Forget(name);
        Add(services, entry.Oid);
        Log.Renamed(_logger, name, newName);
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
        if (name is TemplateZero or TemplateOne)
            throw new PgErrorException(DatabaseErrors.Exists(name));
        if (Find(name) is not null)
            throw new PgErrorException(DatabaseErrors.Exists(name));
        // Each database on disk is a folder of its name: keep names that are safe as one.
        var valid = name.Length > 0 && Encoding.UTF8.GetByteCount(name) <= 63 && name[0] != '.'
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
        if (!valid)
            throw new PgErrorException(DatabaseErrors.BadName(name));
    }

    /// <summary>A new database's oid as other databases' clients see it: unique on the server, above every engine's own (<see cref="DatabaseSeeds.EngineOid"/>).</summary>
    private uint NextOid()
    {
        lock (_gate)
            return Math.Max(DatabaseSeeds.EngineOid, _entries.Values.Select(e => e.Oid).DefaultIfEmpty(0u).Max()) + 1;
    }

    private DatabaseEntry Add(DatabaseSite site, uint oid) => Add(new DatabaseEntry(site, _create, oid));

    private DatabaseEntry Add(SessionServices running, uint oid) => Add(new DatabaseEntry(running, _create, oid));

    private DatabaseEntry Add(DatabaseEntry entry)
    {
        lock (_gate)
            _entries[entry.Name] = entry;
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

    /// <summary>A template that is gone or renamed: its spare copy and kept dump are useless.</summary>
    private void Forget(string name)
    {
        _spares.Forget(name);
        _seeds.Forget(name);
    }

    private bool SeedInUse(string path)
    {
        lock (_gate)
            return _entries.Values.Any(e => e.Site.Seed == path || e.RunningServices?.Engine.Site.Seed == path);
    }

    private void DeleteFiles(DatabaseSite site)
    {
        if (site.Seed is { } seed)
            ReleaseSeed(seed);
        if (!site.IsMemory && Directory.Exists(site.DataDirectory))
            Directory.Delete(site.DataDirectory, recursive: true);
    }

    /// <summary>A seed no database starts from any more: deleted when it was one database's own (a sleep's tar, an earlier version's seed); a shared one is released.</summary>
    private void ReleaseSeed(string seed)
    {
        if (seed.EndsWith(".seed.tar", StringComparison.Ordinal))
            File.Delete(seed);
        else
            _seeds.Release(seed);
    }

    private async Task StopIdleEnginesAsync(CancellationToken stopping)
    {
        var idle = _options.DatabaseIdleTimeout;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(idle.TotalMilliseconds / 4, 100, 10_000)));
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                await _spares.StopIfUnusedAsync(idle);
                List<DatabaseEntry> entries;
                lock (_gate)
                    entries = [.. _entries.Values];
                foreach (var entry in entries)
                {
                    try
                    {
                        if (_options.IsMemory)
                            await SleepIfIdleAsync(entry, idle, stopping);
                        else
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

    /// <summary>
    /// A memory:// database idle for <paramref name="idle"/> goes to sleep (<see cref="DatabaseEntry.SleepIfIdleAsync"/>), as one of the
    /// catalog's commands: a CREATE ... TEMPLATE, DROP or RENAME of it waits for the sleep (0.15-0.5 s here for a small database: the engine's shutdown, its tar written).
    /// </summary>
    private async Task SleepIfIdleAsync(DatabaseEntry entry, TimeSpan idle, CancellationToken stopping)
    {
        await _commands.WaitAsync(stopping);
        try
        {
            await SleepHeldAsync(entry, idle, $"after {idle.TotalSeconds} s without clients");
        }
        finally
        {
            _commands.Release();
        }
    }

    /// <summary>The sleep of <see cref="SleepIfIdleAsync"/>, its caller holding the catalog's commands.</summary>
    private async Task SleepHeldAsync(DatabaseEntry entry, TimeSpan idle, string why)
    {
        var clock = Stopwatch.StartNew();
        if (await entry.SleepIfIdleAsync(idle, Folder(), _options.MemoryDatabaseSleepLimit, engine => Slots.ReadBeforeStopAsync(entry.Name, engine)) is not { } seed)
            return;
        ReleaseSeed(seed);
        Log.Asleep(_logger, entry.Name, why, clock.ElapsedMilliseconds, new FileInfo(entry.Site.Seed!).Length >> 20);
    }

    /// <summary>Stops every database's engine but postgres's (the server stops that one itself) and the spare; memory:// seeds are deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _idleLoop;
        if (Interlocked.Exchange(ref _walCheckpoints, null) is { } walCheckpoints)
            await walCheckpoints.DisposeAsync();
        await _spares.DisposeAsync();
        List<DatabaseEntry> entries;
        lock (_gate)
            entries = [.. _entries.Values];
        await Task.WhenAll(entries.Select(e => e.StopAsync()));
        _memoryFolder?.Dispose();
    }

    /// <summary>The databases' folder, made (memory://: with its owner's lock) if it is not there yet.</summary>
    private string Folder() => _memoryFolder?.Ensure() ?? Directory.CreateDirectory(_folder).FullName;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "database {Name} created from {Template} in {Milliseconds} ms (its engine ready after {Taken} ms; options ignored: {Ignored})")]
        public static partial void Created(ILogger logger, string name, string template, long taken, long milliseconds, string ignored);

        [LoggerMessage(Level = LogLevel.Information, Message = "database {Name} dropped")]
        public static partial void Dropped(ILogger logger, string name);

        [LoggerMessage(Level = LogLevel.Information, Message = "database {Name} renamed to {NewName}")]
        public static partial void Renamed(ILogger logger, string name, string newName);

        [LoggerMessage(Level = LogLevel.Information, Message = "database {Name} asleep {Why}: its cluster kept in a tar of {Megabytes} MB, its engine stopped ({Milliseconds} ms); the next connection starts it from the tar")]
        public static partial void Asleep(ILogger logger, string name, string why, long milliseconds, long megabytes);

        [LoggerMessage(Level = LogLevel.Warning, Message = "stopping the idle engine of database {Name} failed: {Message}")]
        public static partial void StopFailed(ILogger logger, string name, string message);
    }
}
