using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Databases;

/// <summary>What a spare engine becomes when claimed: a new empty database, or a copy of template <see cref="Template"/> as it was at <see cref="Version"/>.</summary>
internal sealed record SpareKind(string? Template, long Version)
{
    public static SpareKind Empty { get; } = new(null, 0);

    public override string ToString() => Template is null ? "an empty database" : $"a copy of \"{Template}\"";
}

/// <summary>
/// The engine CREATE DATABASE turns into the new database: started ahead (a spare, at most one, of the kind last asked
/// for) or when asked, from a seed (<see cref="DatabaseSeeds"/>) and opened on the seed's database, in memory or in a
/// folder of its own under DIR/.zeropg-databases (".spare-..."). Claiming it renames that database and moves the folder
/// (<see cref="EngineSupervisor.RelocateAsync"/>): the new database answers within milliseconds instead of an engine start.
/// A spare costs one idle engine's memory; it is stopped after the database idle time without a CREATE DATABASE.
/// Thread safety: <see cref="_gate"/> owns <see cref="_spare"/>; starts and stops run outside it.
/// </summary>
internal sealed partial class DatabaseSpares(ZeroPgOptions options, Func<DatabaseSite, SessionServices> create, string folder, ILogger logger) : IAsyncDisposable
{
    /// <summary>What a claimed engine's first clients ask for (Npgsql's type loading, psql's catalog reads), read once ahead so the catalog caches are warm.</summary>
    private const string WarmUpSql = "SELECT count(*) FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
        + " LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid"
        + " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid LEFT JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid";

    public const string FolderPrefix = ".spare-";

    private sealed record Spare(SpareKind Kind, Task<SessionServices> Started)
    {
        public long Made { get; } = Environment.TickCount64;
    }

    private readonly Lock _gate = new();
    private Spare? _spare;
    private bool _disposed;
    private readonly List<Task> _stops = []; // spares stopping in the background, under _gate

    /// <summary>The mode allows a spare now: always, or once the server created a database (auto).</summary>
    public bool Wanted(bool created) => options.SpareDatabaseEngine switch
    {
        SpareEngineMode.Always => true,
        SpareEngineMode.Auto => created,
        _ => false,
    };

    /// <summary>The spare's engine and what it will become, once it has started (/metrics and the dashboard list it; tests).</summary>
    public (EngineProcess Engine, SpareKind Kind)? Ready
    {
        get
        {
            lock (_gate)
                return _spare?.Started is { IsCompletedSuccessfully: true } started && started.Result.Engine.Running is { } engine ? (engine, _spare.Kind) : null;
        }
    }

    /// <summary>The spare of this kind (waiting for its start if it is starting), else an engine started now from <paramref name="site"/>'s seed.</summary>
    public async Task<SessionServices> TakeAsync(SpareKind kind, Func<Task<DatabaseSite>> site, CancellationToken cancellationToken)
    {
        Spare? match;
        Spare? other = null;
        lock (_gate)
        {
            match = _spare?.Kind == kind ? _spare : null;
            if (match is null)
                other = _spare;
            _spare = null;
        }
        if (other is not null)
            StopInBackground(other);
        if (match is not null)
        {
            try
            {
                var services = await match.Started.WaitAsync(cancellationToken);
                if (services.Engine.IsReady)
                {
                    Log.Taken(logger, kind.ToString(), Environment.TickCount64 - match.Made);
                    return services;
                }
                await services.Engine.DisposeAsync();
            }
            catch (OperationCanceledException)
            {
                StopInBackground(match); // nobody will claim it now
                throw;
            }
            catch (Exception error)
            {
                Log.SpareFailed(logger, kind.ToString(), error.Message); // start one now instead
            }
        }
        // Its caller waits: no warm-up first (a client that loads types pays for the catalog reads as it would on a spare's behalf).
        return await StartAsync(await site(), warmUp: false, cancellationToken);
    }

    /// <summary>Keeps a spare of this kind ready, started now in the background, unless one of this kind is there already.</summary>
    public void Prepare(SpareKind kind, Func<Task<DatabaseSite>> site)
    {
        Spare? replaced;
        Spare spare;
        lock (_gate)
        {
            if (_disposed || _spare?.Kind == kind)
                return;
            replaced = _spare;
            _spare = spare = new Spare(kind, StartInBackgroundAsync(site));
        }
        if (replaced is not null)
            StopInBackground(replaced);
        _ = spare.Started.ContinueWith(t => Log.SpareFailed(logger, kind.ToString(), t.Exception!.GetBaseException().Message), CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>A template was dropped, renamed or changed: a spare copy of it is useless.</summary>
    public void Forget(string template)
    {
        Spare? gone = null;
        lock (_gate)
        {
            if (_spare?.Kind.Template == template)
            {
                gone = _spare;
                _spare = null;
            }
        }
        if (gone is not null)
            StopInBackground(gone);
    }

    /// <summary>Stops a spare nobody claimed for <paramref name="idle"/>: its memory is worth more than the next CREATE DATABASE's second.</summary>
    public Task StopIfUnusedAsync(TimeSpan idle)
    {
        Spare? gone = null;
        lock (_gate)
        {
            if (_spare is { } spare && Environment.TickCount64 - spare.Made > idle.TotalMilliseconds)
            {
                gone = spare;
                _spare = null;
            }
        }
        if (gone is null)
            return Task.CompletedTask;
        Log.Stopped(logger, gone.Kind.ToString());
        return StopAsync(gone);
    }

    private async Task<SessionServices> StartInBackgroundAsync(Func<Task<DatabaseSite>> site)
    {
        await Task.Yield(); // never on the caller's path
        return await StartAsync(await site(), warmUp: true, CancellationToken.None);
    }

    /// <summary>Starts an engine on <paramref name="seed"/> (in a folder of its own under --db DIR); a spare also warms its catalog caches.</summary>
    private async Task<SessionServices> StartAsync(DatabaseSite seed, bool warmUp, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var site = options.IsMemory ? seed : seed with { DataDirectory = Path.Combine(folder, FolderPrefix + Guid.NewGuid().ToString("N")[..12]) };
        var services = create(site);
        try
        {
            await services.Engine.StartAsync(cancellationToken);
            if (warmUp)
                await OwnSql.RunAsync(await services.Engine.GetAsync(), TimeSpan.FromSeconds(30), WarmUpSql);
        }
        catch
        {
            await services.Engine.DisposeAsync();
            DeleteFolder(site);
            throw;
        }
        Log.Started(logger, seed.SeedDatabase ?? seed.Name, clock.ElapsedMilliseconds);
        return services;
    }

    /// <summary>Stops a spare nobody will claim without waiting for it; the server's stop waits for it (its folder is gone by then).</summary>
    private void StopInBackground(Spare spare)
    {
        var stop = StopAsync(spare);
        lock (_gate)
        {
            _stops.RemoveAll(task => task.IsCompleted);
            _stops.Add(stop);
        }
    }

    private async Task StopAsync(Spare spare)
    {
        try
        {
            var services = await spare.Started;
            await services.Engine.DisposeAsync();
            DeleteFolder(services.Engine.Site);
        }
        catch (Exception)
        {
            // A spare that failed to start has nothing left to stop.
        }
    }

    private static void DeleteFolder(DatabaseSite site)
    {
        try
        {
            if (!site.IsMemory && Path.GetFileName(site.DataDirectory).StartsWith(FolderPrefix, StringComparison.Ordinal) && Directory.Exists(site.DataDirectory))
                Directory.Delete(site.DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Removed at the next start (DatabaseCatalog.Open).
        }
    }

    public async ValueTask DisposeAsync()
    {
        Spare? spare;
        Task[] stops;
        lock (_gate)
        {
            _disposed = true;
            spare = _spare;
            _spare = null;
            stops = [.. _stops];
        }
        if (spare is not null)
            await StopAsync(spare);
        await Task.WhenAll(stops); // StopAsync never throws
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "spare engine for {Kind} taken ({Age} ms after it was asked for)")]
        public static partial void Taken(ILogger logger, string kind, long age);

        [LoggerMessage(Level = LogLevel.Information, Message = "engine on {Database} started for a new database in {Milliseconds} ms")]
        public static partial void Started(ILogger logger, string database, long milliseconds);

        [LoggerMessage(Level = LogLevel.Warning, Message = "the spare engine for {Kind} could not start: {Message}")]
        public static partial void SpareFailed(ILogger logger, string kind, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "spare engine for {Kind} stopped: no CREATE DATABASE took it")]
        public static partial void Stopped(ILogger logger, string kind);
    }
}
