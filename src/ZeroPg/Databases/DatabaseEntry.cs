using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Databases;

/// <summary>
/// One database of the server and the life of its engine: started by the first client that enters, stopped
/// when it has had no client for the idle time (memory://: put to sleep, its cluster kept as a tar), retired when the database is dropped or renamed.
/// Its lock owns its state; engine starts and stops run outside it, one after the other (a start waits for the
/// stop before it: the data directory's lock is the engine's until then).
/// </summary>
internal sealed class DatabaseEntry
{
    private readonly Lock _gate = new();
    private readonly Func<DatabaseSite, SessionServices> _create;
    private Task<SessionServices>? _running;
    private Task _stopping = Task.CompletedTask;
    private int _clients;
    private long _idleSince = Environment.TickCount64;
    private long _version;
    private bool _gone;
    private string? _lost; // memory://: why the database's data is gone (a sleep whose tar was not written); clients are refused

    public DatabaseEntry(DatabaseSite site, Func<DatabaseSite, SessionServices> create, uint oid)
    {
        Site = site;
        _create = create;
        Oid = oid;
    }

    /// <summary>A database whose engine already runs (a spare engine claimed by CREATE DATABASE, a database renamed in place).</summary>
    public DatabaseEntry(SessionServices running, Func<DatabaseSite, SessionServices> create, uint oid)
        : this(running.Engine.Site, create, oid)
    {
        _running = Task.FromResult(running);
    }

    /// <summary>The postgres database: its services are the server's own and never stop.</summary>
    public DatabaseEntry(SessionServices primary)
    {
        Site = primary.Engine.Site;
        _create = _ => primary;
        _running = Task.FromResult(primary);
        Oid = PrimaryOid;
    }

    /// <summary>postgres's oid in every cluster initdb makes.</summary>
    public const uint PrimaryOid = 5;

    public DatabaseSite Site { get; private set; }

    public string Name => Site.Name;

    /// <summary>The database's pg_database.oid as clients of other databases see it (unique on the server; <see cref="DatabaseListing.Rows"/>).</summary>
    public uint Oid { get; }

    /// <summary>Counts the clients that ever entered: unchanged since a dump of the database means nobody could have written to it since (a template's cached copy is still good).</summary>
    public long Version
    {
        get { lock (_gate) return _version; }
    }

    /// <summary>Clients connected to the database now (sessions between <see cref="EnterAsync"/> and <see cref="Leave"/>).</summary>
    public int Clients
    {
        get { lock (_gate) return _clients; }
    }

    /// <summary>The engine's services when it runs (or is starting), else null.</summary>
    public SessionServices? RunningServices
    {
        get { lock (_gate) return _running is { IsCompletedSuccessfully: true } running ? running.Result : null; }
    }

    /// <summary>
    /// memory://: the tar the database sleeps in while no engine runs it, else null. It holds the cluster as after a clean
    /// shutdown (unlogged tables' rows too), so a copy of the database may be taken from it. Only the catalog's commands put a
    /// database to sleep or drop it: the tar stays while one of them runs, even if a client wakes the database meanwhile.
    /// </summary>
    public string? SleepingIn
    {
        get
        {
            lock (_gate)
                return Site.IsMemory && _running is null && _lost is null && !_gone && _stopping.IsCompletedSuccessfully
                    && Site.Seed is { } seed && Path.GetFileName(seed).StartsWith(SleepTarPrefix, StringComparison.Ordinal) ? seed : null;
        }
    }

    private const string SleepTarPrefix = ".sleep-";

    /// <summary>A client enters: the database's services, its engine started when it was not running. Pair with <see cref="Leave"/>.</summary>
    public async Task<SessionServices> EnterAsync()
    {
        Task<SessionServices> running;
        lock (_gate)
        {
            if (_gone)
                throw new Protocol.PgErrorException(DatabaseErrors.Missing(Name, fatal: true));
            if (_lost is { } lost)
                throw new Protocol.PgErrorException(DatabaseErrors.Lost(Name, lost));
            _clients++;
            _version++;
            running = _running ??= StartAsync(_stopping);
        }
        try
        {
            return await running;
        }
        catch
        {
            lock (_gate)
            {
                if (ReferenceEquals(_running, running))
                    _running = null; // the next client tries again
            }
            Leave();
            throw;
        }
    }

    public void Leave()
    {
        lock (_gate)
        {
            if (--_clients == 0)
                _idleSince = Environment.TickCount64;
        }
    }

    private async Task<SessionServices> StartAsync(Task previousStop)
    {
        await previousStop;
        lock (_gate)
        {
            if (_lost is { } lost)
                throw new Protocol.PgErrorException(DatabaseErrors.Lost(Name, lost)); // not the older seed's data in its place
        }
        var services = _create(Site);
        try
        {
            await services.Engine.StartAsync(CancellationToken.None);
        }
        catch
        {
            await services.Engine.DisposeAsync();
            throw;
        }
        // On disk the cluster is in its directory now: the tar it came from is not needed any more (an earlier version's own
        // seed is deleted; a shared one, such as the snapshot template1 starts from, stays).
        if (!Site.IsMemory && Site.Seed is { } seed)
        {
            if (seed.EndsWith(".seed.tar", StringComparison.Ordinal))
                File.Delete(seed);
            lock (_gate)
                Site = Site with { Seed = null };
        }
        return services;
    }

    /// <summary>Stops the engine of an on-disk database nobody used for <paramref name="idle"/> (memory://: <see cref="SleepIfIdleAsync"/>).</summary>
    public Task StopIfIdleAsync(TimeSpan idle)
    {
        lock (_gate)
        {
            if (Site.IsMemory || IdleEngine(idle) is not { } running)
                return Task.CompletedTask;
            _running = null;
            return _stopping = StopAsync(running);
        }
    }

    /// <summary>How long a sleep waits for a client's unit to end before it tries again at the next idle check.</summary>
    private static readonly TimeSpan SleepWait = TimeSpan.FromSeconds(1);

    /// <summary>How long a sleeping engine may take to shut down and write its tar before it is killed (and its data lost).</summary>
    private static readonly TimeSpan SleepCloseTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// memory://: a database nobody used for <paramref name="idle"/> goes to sleep. Between units, like a client (never inside
    /// one), its engine is told to write its data directory to a tar in <paramref name="folder"/> at its shutdown (after Postgres's
    /// shutdown checkpoint: unlogged tables keep their rows, the next start runs no recovery) and is stopped; its next client
    /// starts an engine from that tar, as a new database starts from its seed. Nothing changes when a client came in meanwhile,
    /// or the database's files exceed <paramref name="sizeLimit"/> or the folder's free space. <paramref name="beforeSleep"/>
    /// reads what the server keeps of the database beside it (its replication slots' rows). Returns the seed the database no
    /// longer starts from, else null.
    /// </summary>
    public async Task<string?> SleepIfIdleAsync(TimeSpan idle, string folder, long sizeLimit, Func<EngineProcess, Task> beforeSleep)
    {
        SessionServices services;
        long version;
        lock (_gate)
        {
            if (!Site.IsMemory || _lost is not null || IdleEngine(idle) is not { } running)
                return null;
            services = running;
            version = _version;
        }
        var tar = Path.Combine(folder, $"{SleepTarPrefix}{Guid.NewGuid():N}.seed.tar");
        var sleeping = await Replication.Slots.BetweenUnits.ReadAsync<Task<string?>>(services, SleepWait, async engine =>
        {
            var size = await engine.ControlAsync(new DatabaseSizeControl(Site.EngineOid));
            if (!size.TryGetProperty("bytes", out var bytes) || bytes.GetInt64() > sizeLimit || !HasRoom(folder, bytes.GetInt64()))
                return null;
            await beforeSleep(engine);
            if ((await engine.ControlAsync(new SleepControl(tar))).TryGetProperty("error", out _))
                return null;
            lock (_gate)
            {
                if (_version == version && _clients == 0 && !_gone && _running is { IsCompletedSuccessfully: true } running && ReferenceEquals(running.Result, services))
                {
                    _running = null;
                    var slept = SleepAsync(services, engine, tar);
                    _stopping = slept; // a client that comes now starts from the tar
                    return slept;
                }
            }
            await engine.ControlAsync(new SleepControl(null)); // a client came: the engine runs on
            return null;
        }, CancellationToken.None);
        if (sleeping is null)
        {
            lock (_gate)
            {
                if (_clients == 0)
                    _idleSince = Environment.TickCount64; // not tried again at every check
            }
            return null;
        }
        return await sleeping;
    }

    /// <summary>Stops the engine, which writes <paramref name="tar"/> at its shutdown; the database starts from it from now on.</summary>
    private async Task<string?> SleepAsync(SessionServices services, EngineProcess engine, string tar)
    {
        engine.CloseTimeout = SleepCloseTimeout;
        await StopAsync(services);
        lock (_gate)
        {
            if (!DatabaseSeeds.IsWhole(tar))
            {
                // The engine's shutdown did not write its tar (it died, or was killed): what it held since its start is gone.
                _lost = $"its engine stopped while it went to sleep, and its data went with it ({engine.Diagnostics()})";
                return null;
            }
            var seed = Site.Seed;
            // The tar holds the cluster as it is now, the database under its own name, with the extensions its engine loaded.
            Site = Site with { Seed = tar, SeedDatabase = null, Extensions = [.. services.Engine.LoadedExtensions] };
            return seed;
        }
    }

    /// <summary>
    /// Twice the tar's likely size free in the folder (a database's files plus the cluster's ~40 MB). DriveInfo takes any path:
    /// Unix asks statvfs of it, Windows of its root; a UNC path throws there, and the database keeps its engine.
    /// </summary>
    private static bool HasRoom(string folder, long databaseBytes)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace > 2 * (databaseBytes + (40L << 20));
        }
        catch (Exception error) when (error is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The running services of a database (not postgres) with no client for <paramref name="idle"/>, else null. Under <see cref="_gate"/>.</summary>
    private SessionServices? IdleEngine(TimeSpan idle) =>
        Site.IsPrimary || _gone || _clients > 0 || _running is not { IsCompletedSuccessfully: true } running
        || Environment.TickCount64 - _idleSince < (long)idle.TotalMilliseconds
            ? null
            : running.Result;

    /// <summary>No client may enter any more (the database is dropped); its engine stops. False when clients came in meanwhile.</summary>
    public async Task<bool> RetireAsync()
    {
        Task<SessionServices>? running;
        Task stopping;
        lock (_gate)
        {
            if (_clients > 0)
                return false;
            _gone = true;
            running = _running;
            _running = null;
            stopping = _stopping;
        }
        await stopping;
        SessionServices? services = null;
        try
        {
            services = running is null ? null : await running;
        }
        catch (Exception)
        {
            // A start that failed left nothing running.
        }
        if (services is not null)
            await StopAsync(services);
        return true;
    }

    /// <summary>
    /// A dump of the running cluster (the template of CREATE DATABASE ... TEMPLATE), its engine started for it when it was not
    /// running and kept running while it is taken; the extensions its engine has loaded (its copies must preload them).
    /// </summary>
    public async Task<IReadOnlyList<string>> DumpAsync(string path)
    {
        var services = await EnterAsync();
        try
        {
            await DatabaseForge.DumpAsync(await services.Engine.GetAsync(), path);
            return [.. services.Engine.LoadedExtensions];
        }
        finally
        {
            lock (_gate)
                _version--; // ZeroPg's own visit: no client wrote anything
            Leave();
        }
    }

    /// <summary>
    /// On disk: the database's engine (started for it when it was not running, so that its extensions are known) is stopped, a
    /// clean shutdown, and <paramref name="copy"/> reads its data directory, which then holds the cluster as after that
    /// shutdown (unlogged tables' rows too); an engine starts on the directory again only after the copy (a client that comes
    /// meanwhile waits for it). Returns the extensions the engine had loaded (its copies must preload them), or null, with
    /// nothing copied, when a client is in.
    /// </summary>
    public async Task<IReadOnlyList<string>?> StopAndCopyAsync(Func<string, Task> copy)
    {
        var services = await EnterAsync();
        IReadOnlyList<string> extensions = [.. services.Engine.LoadedExtensions];
        TaskCompletionSource copied = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _version--; // ZeroPg's own visit: no client wrote anything
            if (_clients > 1 || Site.IsMemory || _running is not { IsCompletedSuccessfully: true } running || !ReferenceEquals(running.Result, services))
            {
                _clients--;
                return null;
            }
            _clients--;
            _idleSince = Environment.TickCount64;
            _running = null;
            _stopping = copied.Task; // never faults: a client's start waits for it, then opens the directory
        }
        try
        {
            await StopAsync(services);
            await copy(Site.DataDirectory);
            return extensions;
        }
        finally
        {
            copied.SetResult();
        }
    }

    /// <summary>
    /// The database is renamed: no client may enter under this name any more, and its engine (started for it when it was not
    /// running) is handed over, still running, to the entry of the new name. Null when clients came in meanwhile.
    /// </summary>
    public async Task<SessionServices?> HandOverAsync()
    {
        Task<SessionServices>? running;
        Task stopping;
        lock (_gate)
        {
            if (_clients > 0)
                return null;
            _gone = true;
            running = _running;
            _running = null;
            stopping = _stopping;
        }
        await stopping;
        try
        {
            if (running is not null)
                return await running;
        }
        catch (Exception)
        {
            // A start that failed left nothing running: start again below.
        }
        return await StartAsync(Task.CompletedTask);
    }

    /// <summary>The hand-over failed: the database keeps its name and engine.</summary>
    public void TakeBack(SessionServices services)
    {
        lock (_gate)
        {
            _gone = false;
            _running = Task.FromResult(services);
        }
    }

    /// <summary>The server is stopping.</summary>
    public async Task StopAsync()
    {
        Task<SessionServices>? running;
        lock (_gate)
        {
            if (Site.IsPrimary)
                return;
            _gone = true;
            running = _running;
            _running = null;
        }
        await _stopping;
        if (running is null)
            return;
        try
        {
            await StopAsync(await running);
        }
        catch (Exception)
        {
            // Never started: nothing to stop.
        }
    }

    public static async Task StopAsync(SessionServices services)
    {
        try
        {
            if (!services.Engine.Site.IsMemory)
                await OwnSql.RunAsync(await services.Engine.GetAsync(), TimeSpan.FromSeconds(30), "CHECKPOINT");
        }
        catch (Exception error) when (error is EngineFailedException or TimeoutException)
        {
            // The engine is gone or stuck; crash recovery covers what the checkpoint would have.
        }
        await services.Engine.DisposeAsync();
    }
}
