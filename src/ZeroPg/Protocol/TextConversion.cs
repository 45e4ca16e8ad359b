using System.Buffers;
using System.Globalization;
using System.Text;

namespace ZeroPg.Protocol;

/// <summary>
/// Text between a client's encoding and UTF8 (the engine's), failing as Postgres fails: a byte sequence the client's
/// encoding does not have is 22021, a character the other side has no equivalent of is 22P05, with Postgres's texts and
/// no hint (Postgres gives none: the text says it all, and clients compare it).
/// </summary>
internal static class TextConversion
{
    /// <summary>The client's bytes in UTF8.</summary>
    public static byte[] ToUtf8(PgEncoding client, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return [];
        string text;
        try
        {
            text = client.Encoding.GetString(bytes);
        }
        catch (DecoderFallbackException error)
        {
            throw new PgErrorException(InvalidByteSequence(client, error.BytesUnknown ?? []));
        }
        CheckAssigned(client, text, bytes);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Part of a stream (COPY data): a character cut at the end is kept by <paramref name="decoder"/> for the next part.</summary>
    public static byte[] ToUtf8(PgEncoding client, Decoder decoder, ReadOnlySpan<byte> bytes, bool last)
    {
        char[] chars;
        int count;
        try
        {
            // Counting decodes too: a multi-byte encoding's decoder (SJIS, BIG5, GBK, UHC) throws here already (found by the fuzzer).
            chars = new char[decoder.GetCharCount(bytes, last) + 1];
            count = decoder.GetChars(bytes, chars, last);
        }
        catch (DecoderFallbackException error)
        {
            decoder.Reset();
            throw new PgErrorException(InvalidByteSequence(client, error.BytesUnknown ?? []));
        }
        var text = new string(chars, 0, count);
        CheckAssigned(client, text, bytes);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>UTF8 bytes (the engine's) in the client's encoding, appended to <paramref name="output"/>.</summary>
    public static void FromUtf8(PgEncoding client, ReadOnlySpan<byte> utf8, IBufferWriter<byte> output, bool lenient = false)
    {
        if (utf8.IsEmpty)
            return;
        var text = Encoding.UTF8.GetString(utf8);
        var encoding = lenient ? client.Lenient : client.Encoding;
        try
        {
            var span = output.GetSpan(encoding.GetMaxByteCount(text.Length));
            output.Advance(encoding.GetBytes(text, span));
        }
        catch (EncoderFallbackException error)
        {
            throw new PgErrorException(NoEquivalent(error, client));
        }
    }

    /// <summary>UTF8 bytes in the client's encoding, '?' for what it lacks (error texts, notices, names).</summary>
    public static byte[] FromUtf8Lenient(PgEncoding client, ReadOnlySpan<byte> utf8) => client.Lenient.GetBytes(Encoding.UTF8.GetString(utf8));

    /// <summary>Part of a stream of UTF8 (COPY TO STDOUT data), cut anywhere: <paramref name="decoder"/> keeps a character cut at the end.</summary>
    public static void FromUtf8(PgEncoding client, Decoder decoder, ReadOnlySpan<byte> utf8, IBufferWriter<byte> output, bool last)
    {
        var chars = new char[decoder.GetCharCount(utf8, last) + 1];
        var count = decoder.GetChars(utf8, chars, last);
        try
        {
            var span = output.GetSpan(client.Encoding.GetMaxByteCount(count));
            output.Advance(client.Encoding.GetBytes(chars.AsSpan(0, count), span));
        }
        catch (EncoderFallbackException error)
        {
            throw new PgErrorException(NoEquivalent(error, client));
        }
    }

    private static void CheckAssigned(PgEncoding client, string text, ReadOnlySpan<byte> bytes)
    {
        if (!client.HasUnassignedC1)
            return;
        foreach (var c in text)
        {
            if (c is >= '\u0080' and <= '\u009f')
            {
                // The byte read as a C1 control is one the code page leaves unassigned (Postgres has no mapping for it).
                throw new PgErrorException(PgError.Error(SqlState.UntranslatableCharacter,
                    $"character with byte sequence 0x{(int)c:x2} in encoding \"{client.Name}\" has no equivalent in encoding \"UTF8\""));
            }
        }
    }

    private static PgError InvalidByteSequence(PgEncoding client, byte[] bytes)
        => PgError.Error(SqlState.CharacterNotInRepertoire,
            $"invalid byte sequence for encoding \"{client.Name}\": {Hex(bytes)}");

    private static PgError NoEquivalent(EncoderFallbackException error, PgEncoding client)
    {
        var character = error.IsUnknownSurrogate() ? new string([error.CharUnknownHigh, error.CharUnknownLow]) : error.CharUnknown.ToString();
        return PgError.Error(SqlState.UntranslatableCharacter,
            $"character with byte sequence {Hex(Encoding.UTF8.GetBytes(character))} in encoding \"UTF8\" has no equivalent in encoding \"{client.Name}\"");
    }

    private static string Hex(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes)
            text.Append(text.Length == 0 ? "" : " ").Append("0x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        return text.ToString();
    }
}
