using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Databases;

/// <summary>
/// One database of the server and the life of its engine: started by the first client that enters, stopped
/// when it has had no client for the idle time (on disk only), retired when the database is dropped or renamed.
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

    /// <summary>A client enters: the database's services, its engine started when it was not running. Pair with <see cref="Leave"/>.</summary>
    public async Task<SessionServices> EnterAsync()
    {
        Task<SessionServices> running;
        lock (_gate)
        {
            if (_gone)
                throw new Protocol.PgErrorException(DatabaseErrors.Missing(Name, fatal: true));
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

    /// <summary>Stops the engine of an on-disk database nobody used for <paramref name="idle"/>; memory:// engines never stop (their data would be lost).</summary>
    public Task StopIfIdleAsync(TimeSpan idle)
    {
        lock (_gate)
        {
            if (Site.IsPrimary || Site.IsMemory || _gone || _clients > 0 || _running is not { IsCompletedSuccessfully: true } running
                || Environment.TickCount64 - _idleSince < (long)idle.TotalMilliseconds)
                return Task.CompletedTask;
            _running = null;
            return _stopping = StopAsync(running.Result);
        }
    }

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
