using System.Text.Json.Serialization;

namespace ZeroPg.Compatibility;

/// <summary>Where a finding comes from: a file relative to the scanned folder, a 1-based line and the text found.</summary>
public sealed record Evidence(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("line")] int Line,
    [property: JsonPropertyName("text")] string Text);

/// <summary>Whether ZeroPg's engine has an extension.</summary>
public static class ExtensionStatus
{
    /// <summary>A contrib extension inside PGlite's own package: CREATE EXTENSION loads it on demand.</summary>
    public const string Bundled = "bundled";
    /// <summary>In a separate PGlite extension package installed beside the engine (pgvector): loaded on demand too.</summary>
    public const string Loadable = "loadable";
    /// <summary>PGlite does not ship it: the app needs native PostgreSQL.</summary>
    public const string NotAvailable = "not available";
}

public sealed record ExtensionFinding(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("evidence")] IReadOnlyList<Evidence> Evidence)
{
    [JsonPropertyName("advice")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Advice { get; init; }
}

public sealed record DriverFinding(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ecosystem")] string Ecosystem,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("evidence")] Evidence Evidence,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes)
{
    /// <summary>A connection-string parameter the driver needs on ZeroPg, if any.</summary>
    [JsonPropertyName("dsnParameter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DsnParameter { get; init; }

    /// <summary>False when the driver cannot work against ZeroPg at all.</summary>
    [JsonPropertyName("supported")]
    public bool Supported { get; init; } = true;
}

public sealed record CompatibilityWarning(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("evidence")] IReadOnlyList<Evidence> Evidence);

/// <summary>A migration folder found in the project, with the tool whose ledger it uses.</summary>
public sealed record MigrationFolderFinding(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("migrations")] int Migrations)
{
    /// <summary>Migrations that fail with this folder's tool on any Postgres (and so in `serve --migrations`): a statement Postgres refuses in a transaction block, run in one.</summary>
    [JsonPropertyName("problems")]
    public IReadOnlyList<MigrationProblem> Problems { get; init; } = [];
}

/// <summary>A migration that fails as its tool runs it: where, and why.</summary>
public sealed record MigrationProblem(
    [property: JsonPropertyName("evidence")] Evidence Evidence,
    [property: JsonPropertyName("message")] string Message);

/// <summary>What `zeropg check` says about a project.</summary>
public sealed record CompatibilityReport(
    [property: JsonPropertyName("extensions")] IReadOnlyList<ExtensionFinding> Extensions,
    [property: JsonPropertyName("drivers")] IReadOnlyList<DriverFinding> Drivers,
    [property: JsonPropertyName("warnings")] IReadOnlyList<CompatibilityWarning> Warnings,
    [property: JsonPropertyName("command")] string Command)
{
    [JsonPropertyName("migrations")]
    public IReadOnlyList<MigrationFolderFinding> Migrations { get; init; } = [];

    /// <summary>False when something the project needs is missing (an extension PGlite lacks, a driver that cannot connect) or a migration fails as its tool runs it.</summary>
    [JsonPropertyName("canRun")]
    public bool CanRun => Extensions.All(e => e.Status != ExtensionStatus.NotAvailable) && Drivers.All(d => d.Supported) && Migrations.All(m => m.Problems.Count == 0);

    /// <summary>The bundled and loadable extensions the project needs (what --extensions auto preloads).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> AvailableExtensionNames
        => [.. Extensions.Where(e => e.Status != ExtensionStatus.NotAvailable).Select(e => e.Name)];
}
