namespace ZeroPg.Protocol;

/// <summary>
/// A reply captured from the engine, as whole messages: the ones of a kind (still whole, to forward as they are), and
/// the typed readings of the kinds ZeroPg inspects (<see cref="Backend.ErrorReply"/>, <see cref="Backend.TextRow"/>).
/// </summary>
internal static class CapturedReplies
{
    public static IEnumerable<byte[]> OfKind(this IEnumerable<byte[]> reply, BackendCode code) => reply.Where(m => m.Length > 0 && m[0] == (byte)code);

    public static byte[]? FirstOfKind(this IEnumerable<byte[]> reply, BackendCode code) => reply.OfKind(code).FirstOrDefault();

    public static bool Is(this byte[] message, BackendCode code) => message.Length > 0 && message[0] == (byte)code;

    /// <summary>The first ErrorResponse of the reply, read; null when it has none.</summary>
    public static Backend.ErrorReply? FirstError(this IEnumerable<byte[]> reply)
        => reply.FirstOfKind(BackendCode.ErrorResponse) is { } error ? Backend.ErrorReply.Parse(error) : null;

    /// <summary>The text columns of every DataRow of the reply.</summary>
    public static IEnumerable<Backend.TextRow> TextRows(this IEnumerable<byte[]> reply) => reply.OfKind(BackendCode.DataRow).Select(m => Backend.TextRow.Parse(m));
}
