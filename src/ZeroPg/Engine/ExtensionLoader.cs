using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using ZeroPg.Storage;

namespace ZeroPg.Engine;

/// <summary>
/// Loads extensions into the RUNNING engine when SQL is about to create or update one: the engine host
/// untars the bundle (and those its .control file requires) into PGlite's filesystem, as PGlite's own
/// start-up does, so CREATE EXTENSION works wherever Postgres accepts it, inside transactions too, with
/// no restart. A data directory remembers the extensions it was given (<see cref="DataDirectoryManifest"/>),
/// because PGlite must have their files on every later open. An extension PGlite does not ship gets a
/// stub whose script raises ZeroPg's error (naming the native engine) instead of Postgres's hint to
/// install it.
/// Thread safety: one load at a time (<see cref="_gate"/>); the loaded set is replaced, never mutated.
/// </summary>
internal sealed partial class ExtensionLoader(string engineHostScript, string? dataDirectory, ILogger logger)
{
    private volatile string? _dataDirectory = dataDirectory;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile LoadedSet _loaded = new(null, new HashSet<string>(StringComparer.Ordinal));
    private readonly List<string> _remembered = [];

    private sealed record LoadedSet(EngineProcess? Engine, HashSet<string> Names);

    /// <summary>The bundled extensions an engine must be started with: those asked for at start and those loaded since.</summary>
    public IReadOnlyList<string> Remembered
    {
        get
        {
            lock (_remembered)
                return [.. _remembered];
        }
    }

    /// <summary>The extensions whose files are in the current engine.</summary>
    public IReadOnlyCollection<string> Loaded => _loaded.Names;

    /// <summary>Extensions the next engine starts with (the start set, and the data directory's remembered ones).</summary>
    public void Remember(IEnumerable<string> names)
    {
        lock (_remembered)
        {
            foreach (var extension in ExtensionCatalog.Closure(engineHostScript, names))
            {
                if (!_remembered.Contains(extension.Name))
                    _remembered.Add(extension.Name);
            }
        }
    }

    /// <summary>The data directory was renamed under the running engine (<see cref="EngineSupervisor.RelocateAsync"/>).</summary>
    public void Moved(string directory) => _dataDirectory = directory;

    /// <summary>A new engine runs, started with <see cref="Remembered"/> preloaded.</summary>
    public void Started(EngineProcess engine, IReadOnlyList<string> preloaded)
        => _loaded = new LoadedSet(engine, new HashSet<string>(ExtensionCatalog.Closure(engineHostScript, preloaded).Select(e => e.Name), StringComparer.Ordinal));

    /// <summary>
    /// Writes the .control file of every bundled extension into a new engine, so pg_available_extensions lists
    /// them all as on a Postgres with contrib installed (apps check it before they create one); the rest of an
    /// extension's files follow when SQL creates it. Before any client gets the engine.
    /// </summary>
    public async Task AnnounceAsync(EngineProcess engine)
    {
        var files = ExtensionCatalog.Read(engineHostScript).Values.Select(e => new ExtensionFile(e.ControlPath, e.ControlText)).ToArray();
        var answer = await engine.ControlAsync(new LoadExtensionControl(null, files));
        if (!answer.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
            Log.LoadFailed(logger, "control files", answer.ToString());
    }

    /// <summary>Makes sure the files of <paramref name="names"/> are in <paramref name="engine"/> before SQL that creates them runs.</summary>
    public async Task EnsureLoadedAsync(EngineProcess engine, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        if (!Missing(engine, names).Any())
            return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var missing = Missing(engine, names).ToList();
            if (missing.Count == 0)
                return;
            var bundled = ExtensionCatalog.Closure(engineHostScript, missing).Where(e => !IsLoaded(engine, e.Name)).ToList();
            var unavailable = missing.Where(n => ExtensionCatalog.Find(engineHostScript, n) is null && IsValidName(n)).ToList();
            var started = Stopwatch.GetTimestamp();
            var answer = await engine.ControlAsync(new LoadExtensionControl(
                Bundles: bundled.Select(e => e.BundlePath).Distinct(StringComparer.Ordinal).ToArray(),
                Files: unavailable.SelectMany(n => UnavailableStub(n)).Select(f => new ExtensionFile(f.Path, f.Text)).ToArray()));
            if (!answer.TryGetProperty("ok", out var ok) || !ok.GetBoolean())
            {
                // The statement then fails as Postgres reports a missing extension; the engine itself is fine.
                Log.LoadFailed(logger, string.Join(", ", missing), answer.ToString());
                return;
            }
            var now = new HashSet<string>(_loaded.Engine == engine ? _loaded.Names : [], StringComparer.Ordinal);
            now.UnionWith(bundled.Select(e => e.Name));
            now.UnionWith(unavailable);
            _loaded = new LoadedSet(engine, now);
            if (bundled.Count > 0)
            {
                Remember(bundled.Select(e => e.Name));
                if (_dataDirectory is { } directory)
                    DataDirectoryManifest.MergeExtensions(directory, bundled.Select(e => e.Name));
                Log.Loaded(logger, string.Join(", ", bundled.Select(e => e.Name)), Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private IEnumerable<string> Missing(EngineProcess engine, IReadOnlyCollection<string> names)
        => names.Where(n => !ExtensionCatalog.BuiltIn.Contains(n) && !IsLoaded(engine, n));

    private bool IsLoaded(EngineProcess engine, string name)
    {
        var loaded = _loaded;
        return loaded.Engine == engine && (loaded.Names.Contains(name)
            || (ExtensionCatalog.Find(engineHostScript, name) is { } bundled && loaded.Names.Contains(bundled.Name)));
    }

    /// <summary>Postgres's own rule for extension names (they become file names): no "--", no leading or trailing "-", no slashes.</summary>
    private static bool IsValidName(string name)
        => ValidName().IsMatch(name) && !name.Contains("--", StringComparison.Ordinal) && !name.EndsWith('-');

    /// <summary>
    /// A control file and script for an extension PGlite does not ship: CREATE EXTENSION then fails with
    /// 0A000 "extension ... is not available", as Postgres says it, but with ZeroPg's detail and hint.
    /// </summary>
    internal static IEnumerable<(string Path, string Text)> UnavailableStub(string name)
    {
        const string version = "unavailable";
        var literal = (string s) => "'" + s.Replace("'", "''") + "'";
        yield return ($"share/postgresql/extension/{name}.control",
            $"comment = 'not available: PGlite does not ship it (ZeroPg)'\ndefault_version = '{version}'\nrelocatable = true\n");
        yield return ($"share/postgresql/extension/{name}--{version}.sql",
            "DO $zeropg$ BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', " +
            $"MESSAGE = {literal($"extension \"{name}\" is not available")}, " +
            $"DETAIL = {literal($"ZeroPg runs PGlite (Postgres compiled to WebAssembly), which does not ship {name}; only its bundled contrib extensions and pgvector can be created.")}, " +
            $"HINT = {literal($"An app that needs {name} must run on native PostgreSQL with {name} installed. `zeropg check` lists what an app needs before it starts.")}; " +
            "END $zeropg$;\n");
    }

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]*$")]
    private static partial Regex ValidName();

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "extension {Names} loaded into the running engine in {Milliseconds:0} ms")]
        public static partial void Loaded(ILogger logger, string names, double milliseconds);

        [LoggerMessage(Level = LogLevel.Error, Message = "could not load extension {Names} into the engine: {Answer}")]
        public static partial void LoadFailed(ILogger logger, string names, string answer);
    }
}
