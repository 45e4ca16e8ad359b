using System.Text.Json.Serialization;

namespace ZeroPg.Engine;

/// <summary>
/// A control command to an engine's host (<see cref="EngineProcess.ControlAsync"/>; control.mjs): `cmd` names it, the
/// rest are its arguments, written in <see cref="HostJson"/>'s camelCase.
/// </summary>
[JsonDerivedType(typeof(DumpControl))]
[JsonDerivedType(typeof(DatabaseSizeControl))]
[JsonDerivedType(typeof(LoadExtensionControl))]
[JsonDerivedType(typeof(RelocateControl))]
[JsonDerivedType(typeof(ExitControl))]
[JsonDerivedType(typeof(SleepControl))]
internal abstract record EngineControl
{
    [JsonPropertyOrder(-1)]
    public abstract string Cmd { get; }
}

/// <summary>A tar of the running engine's whole cluster at <paramref name="Path"/> (after a CHECKPOINT).</summary>
internal sealed record DumpControl(string Path) : EngineControl
{
    public override string Cmd => "dump";
}

/// <summary>memory://: at its shutdown the engine writes its data directory to <paramref name="Path"/> as a tar (null: it does not).</summary>
internal sealed record SleepControl(string? Path) : EngineControl
{
    public override string Cmd => "sleepTo";
}

/// <summary>The bytes database <paramref name="Oid"/> (its oid in the engine's cluster) takes.</summary>
internal sealed record DatabaseSizeControl(uint Oid) : EngineControl
{
    public override string Cmd => "databaseSize";
}

/// <summary>Extension files into the engine's filesystem: whole bundles (.tar.gz paths) and single files.</summary>
internal sealed record LoadExtensionControl(IReadOnlyList<string>? Bundles, IReadOnlyList<ExtensionFile> Files) : EngineControl
{
    public override string Cmd => "loadExtension";
}

/// <summary>One file for <see cref="LoadExtensionControl"/>: its path under the engine's install prefix and its text.</summary>
internal sealed record ExtensionFile(string Path, string Text);

/// <summary>Moves the engine's data directory to <paramref name="To"/> while it runs.</summary>
internal sealed record RelocateControl(string To) : EngineControl
{
    public override string Cmd => "relocate";
}

/// <summary>PGlite's exit(<paramref name="Code"/>) inside the engine: a fault injected by tests.</summary>
internal sealed record ExitControl(int Code) : EngineControl
{
    public override string Cmd => "exit";
}
