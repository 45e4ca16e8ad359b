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

    /// <summary>What the client does besides sending (issue 59's outside fuzzer): a CancelRequest with its key, a drop, no reading.</summary>
    public HostileAct Act { get; init; }

    /// <summary>When <see cref="Act"/> happens, after the case was sent.</summary>
    public int ActAfterMs { get; init; }

    /// <summary>One line per message for a reproduction: its type, length and what was done to it.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    public byte[] Payload()
    {
        var all = Messages.SelectMany(m => m).ToArray();
        return all.AsSpan(0, BytesToSend).ToArray();
    }

    public string Describe() =>
        $"case {Id}{(IsCut ? $" (cut after {BytesToSend} bytes)" : "")}{(Act == HostileAct.None ? "" : $", then {Act} after {ActAfterMs} ms")}:\n  " + string.Join("\n  ", Notes.Where(n => n != "(flood)")) +
        "\n  bytes: " + Convert.ToHexString(Payload().AsSpan(0, Math.Min(BytesToSend, 4096)));
}

/// <summary>What a case's client does besides sending its messages.</summary>
public enum HostileAct
{
    None,
    /// <summary>Sends a CancelRequest with the session's own key (from BackendKeyData) while its batch runs, then reads on.</summary>
    CancelWhileRunning,
    /// <summary>Reads nothing and drops the connection (RST) mid-batch.</summary>
    DropMidBatch,
    /// <summary>Reads nothing for a while (its replies fill every buffer), then a CancelRequest, then drops.</summary>
    ReadNothingThenCancel,
}
