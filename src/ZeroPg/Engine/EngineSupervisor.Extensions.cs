using Microsoft.Extensions.Logging;
using ZeroPg.Storage;

namespace ZeroPg.Engine;

/// <summary>
/// Loading a bundled extension that the engine was not started with. PGlite only loads extensions at
/// start, so the engine restarts with it: a memory:// database is carried over in a dump of its data
/// directory, a data directory is closed and reopened (and remembers the extension for later opens).
/// </summary>
internal sealed partial class EngineSupervisor
{
    public IReadOnlyList<string> LoadedExtensions => _launcher?.Extensions ?? [];

    /// <summary>True when <paramref name="name"/> is bundled with PGlite but the running engine did not preload it.</summary>
    public bool CanLoad(string name)
        => _script is not null && !LoadedExtensions.Contains(name, StringComparer.Ordinal)
           && ExtensionCatalog.Available(_script).Contains(name.Replace('-', '_'), StringComparer.Ordinal);

    /// <summary>Restarts the engine with <paramref name="name"/> preloaded. The caller owns the engine and no transaction is open.</summary>
    public async Task LoadExtensionAsync(string name, CancellationToken cancellationToken)
    {
        var old = await GetAsync();
        IReadOnlyList<string> extensions = [.. LoadedExtensions, name];
        string? dump = null;
        if (_options.IsMemory)
        {
            dump = Path.Combine(Path.GetTempPath(), $"zeropg-{Environment.ProcessId}-{Guid.NewGuid():N}.tar");
            var answer = await old.ControlAsync(new { cmd = "dump", path = dump });
            if (!answer.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
                throw new EngineFailedException($"could not dump the database to load extension {name}: {answer}");
        }
        else
        {
            extensions = DataDirectoryManifest.MergeExtensions(Path.GetFullPath(_options.DataDirectory), extensions);
        }
        Log.LoadingExtension(_logger, name);
        var launcher = new EngineLauncher(_options, _script!, extensions, _metrics, _logger);
        Task<EngineProcess> next;
        lock (_gate)
        {
            _launcher = launcher;
            next = _current = RelaunchAsync(old, launcher, dump, cancellationToken);
        }
        await next;
    }

    private async Task<EngineProcess> RelaunchAsync(EngineProcess old, EngineLauncher launcher, string? dump, CancellationToken cancellationToken)
    {
        try
        {
            await old.DisposeAsync(); // closes cleanly (CHECKPOINT on close); a data directory must be free before it is reopened
            return Started(await launcher.RelaunchAsync(dump, cancellationToken));
        }
        finally
        {
            if (dump is not null)
                File.Delete(dump);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "restarting the engine to load extension {Name}")]
        public static partial void LoadingExtension(ILogger logger, string name);
    }
}
