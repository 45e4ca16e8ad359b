namespace ZeroPg.Fuzz;

/// <summary>
/// What one fuzz connection sends: a startup (normal, odd or broken), then frontend messages, possibly mutated,
/// possibly cut at a byte. When the case is not cut, it ends with <see cref="EndMarker"/>'s query so the client
/// knows when the server has answered everything.
/// </summary>
public sealed class FuzzCase
{
    public const string EndMarker = "zp-fuzz-end";

    public required FuzzCaseId Id { get; init; }

    /// <summary>Each frontend packet or message, startup included, after mutation.</summary>
    public required IReadOnlyList<byte[]> Messages { get; init; }

    /// <summary>How many bytes of the concatenated messages go out; the whole when not cut.</summary>
    public required int BytesToSend { get; init; }

    public required bool IsCut { get; init; }

    /// <summary>It sends messages in COPY IN or COPY OUT mode (a COPY-mode sequence).</summary>
    public bool CopyMode { get; init; }

    /// <summary>One line per message for a reproduction: its type, length and what was done to it.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    public byte[] Payload()
    {
        var all = Messages.SelectMany(m => m).ToArray();
        return all.AsSpan(0, BytesToSend).ToArray();
    }

    public string Describe() =>
        $"case {Id}{(IsCut ? $" (cut after {BytesToSend} bytes)" : "")}:\n  " + string.Join("\n  ", Notes) +
        "\n  bytes: " + Convert.ToHexString(Payload().AsSpan(0, Math.Min(BytesToSend, 4096)));
}
