using System.Text.Json.Serialization;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>The dashboard's snapshots as JSON, by generated code (see <see cref="Engine.HostJson"/> for why).</summary>
[JsonSerializable(typeof(DashboardSnapshot))]
internal sealed partial class DashboardJson : JsonSerializerContext;
