namespace ZeroPg.Replication.Walsender;

/// <summary>pgoutput's START_REPLICATION options, checked as pgoutput.c's parse_output_parameters does.
/// Accepted but without effect: <c>origin</c> (every change is local). <c>binary</c>: see <see cref="BinaryValues"/>; <c>streaming</c>:
/// see <see cref="StreamedTransaction"/>; <c>two_phase</c> (protocol 3+): prepared transactions decoded at PREPARE (Capture/TwoPhasePrepares).</summary>
internal sealed record PgOutputOptions(int ProtocolVersion, IReadOnlyList<string> Publications, bool Messages, bool Binary, bool Streaming = false,
    bool TwoPhase = false)
{
    public const int MaxProtocolVersion = 4;

    public static PgOutputOptions Parse(IReadOnlyList<KeyValuePair<string, string?>> options)
    {
        int? version = null;
        IReadOnlyList<string>? publications = null;
        var messages = false;
        var binary = false;
        string? streaming = null;
        var twoPhase = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in options)
        {
            if (!seen.Add(key))
                throw ReplicationErrors.Error("42601", "conflicting or redundant options");
            switch (key)
            {
                case "proto_version":
                    if (!int.TryParse(value, out var v) || v < 0)
                        throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, $"invalid proto_version");
                    if (v > MaxProtocolVersion)
                        throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported,
                            $"client sent proto_version={v} but server only supports protocol {MaxProtocolVersion} or lower");
                    if (v < 1)
                        throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported,
                            $"client sent proto_version={v} but server only supports protocol 1 or higher");
                    version = v;
                    break;
                case "publication_names":
                    publications = SplitIdentifiers(value ?? "");
                    break;
                case "messages":
                    messages = Bool(key, value);
                    break;
                case "binary":
                    binary = Bool(key, value);
                    break;
                case "streaming":
                    if (value is "parallel")
                        streaming = "parallel";
                    else if (TryBool(value, out var on))
                        streaming = on ? "on" : null;
                    else
                        throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, $"invalid value for parameter \"streaming\": \"{value}\"");
                    break;
                case "two_phase":
                    twoPhase = Bool(key, value);
                    break;
                case "origin":
                    if (value is not ("any" or "none"))
                        throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, $"unrecognized origin value: \"{value}\"");
                    break;
                default:
                    throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, $"unrecognized pgoutput option: {key}");
            }
        }
        if (version is null)
            throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, "option \"proto_version\" missing");
        if (publications is null)
            throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, "option \"publication_names\" missing");
        // pgoutput_startup's checks, after the options parsed (Postgres 16+ for 'parallel').
        if (streaming == "on" && version < 2)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, $"requested proto_version={version} does not support streaming, need 2 or higher");
        if (streaming == "parallel" && version < 4)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, $"requested proto_version={version} does not support parallel streaming, need 4 or higher");
        if (twoPhase && version < 3)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, $"requested proto_version={version} does not support two-phase commit, need 3 or higher");
        return new PgOutputOptions(version.Value, publications, messages, binary, streaming is not null, twoPhase);
    }

    private static bool Bool(string key, string? value)
        => TryBool(value, out var b) ? b : throw ReplicationErrors.Error(ReplicationErrors.InvalidParameterValue, $"{key} requires a Boolean value");

    private static bool TryBool(string? value, out bool result)
    {
        result = true;
        switch (value?.ToLowerInvariant())
        {
            case null or "true" or "on" or "yes" or "1" or "t": return true;
            case "false" or "off" or "no" or "0" or "f": result = false; return true;
            default: return false;
        }
    }

    /// <summary>SplitIdentifierString: comma-separated names, double-quoted ones kept as written, others lower-cased.</summary>
    public static IReadOnlyList<string> SplitIdentifiers(string text)
    {
        var names = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            var name = new System.Text.StringBuilder();
            if (i < text.Length && text[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                        throw ReplicationErrors.Error(ReplicationErrors.InvalidName, "invalid publication_names syntax");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { name.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    name.Append(text[i++]);
                }
            }
            else
            {
                while (i < text.Length && text[i] != ',' && !char.IsWhiteSpace(text[i])) name.Append(char.ToLowerInvariant(text[i++]));
            }
            if (name.Length == 0)
                throw ReplicationErrors.Error(ReplicationErrors.InvalidName, "invalid publication_names syntax");
            names.Add(name.ToString());
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i >= text.Length) return names;
            if (text[i] != ',')
                throw ReplicationErrors.Error(ReplicationErrors.InvalidName, "invalid publication_names syntax");
            i++;
        }
    }
}
