using System.Text.Json.Serialization;
using ZeroPg.Compatibility;
using ZeroPg.Storage.Backup;

namespace ZeroPg.Cli;

/// <summary>
/// The reports the commands print with --json / --format json, by generated code: a native AOT build of the command has no
/// reflection-based serializer, and a JIT build skips that work at its first report.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(BackupListing))]
[JsonSerializable(typeof(BackupRestoreReport))]
[JsonSerializable(typeof(BackupVerifyReport))]
[JsonSerializable(typeof(CompatibilityReport))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CliJson : JsonSerializerContext;
