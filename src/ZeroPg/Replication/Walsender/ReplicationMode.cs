using ZeroPg.Protocol;

namespace ZeroPg.Replication.Walsender;

/// <summary>The startup parameter <c>replication</c>: a plain session, a logical walsender that also runs SQL
/// (<c>database</c>), or a physical one that runs replication commands only (<c>true</c>/<c>on</c>/<c>yes</c>/<c>1</c>).</summary>
internal enum ReplicationMode { None, Physical, Database }

internal static class ReplicationModes
{
    /// <summary>As Postgres's postmaster parses it; anything else is FATAL 22023 before authentication.</summary>
    public static ReplicationMode Of(IReadOnlyDictionary<string, string> startupParameters)
    {
        if (!startupParameters.TryGetValue("replication", out var value))
            return ReplicationMode.None;
        return value.ToLowerInvariant() switch
        {
            "database" => ReplicationMode.Database,
            "true" or "on" or "yes" or "1" => ReplicationMode.Physical,
            "false" or "off" or "no" or "0" => ReplicationMode.None,
            _ => throw new PgErrorException(PgError.Fatal(ReplicationErrors.InvalidParameterValue,
                $"invalid value for parameter \"replication\": \"{value}\"", "Valid values are: \"false\", 0, \"true\", 1, \"database\".")),
        };
    }
}
