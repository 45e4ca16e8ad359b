using System.Text.Json.Serialization;

namespace ZeroPg.Storage;

/// <summary>
/// The JSON ZeroPg keeps in files and in a backup's bucket, by generated code (see <see cref="Engine.HostJson"/> for why);
/// each type names its own properties.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(DataDirectoryManifest.Manifest))]
[JsonSerializable(typeof(Backup.DirectoryMarker))]
[JsonSerializable(typeof(Backup.LeaseRecord))]
[JsonSerializable(typeof(Backup.BaseManifest))]
[JsonSerializable(typeof(Backup.MetaRecord))]
[JsonSerializable(typeof(Databases.DatabaseMetadata.Content))]
internal sealed partial class StoredJson : JsonSerializerContext;
