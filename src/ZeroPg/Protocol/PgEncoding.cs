using System.Text;

namespace ZeroPg.Protocol;

/// <summary>
/// A client encoding as Postgres names it (pg_wchar.h's pg_enc2name_tbl), with the .NET encoding that converts it to and
/// from UTF8, the only encoding the engine speaks (PGlite ships none of Postgres's conversion modules). UTF8 and SQL_ASCII
/// need no conversion (SQL_ASCII passes bytes through, as Postgres does).
/// </summary>
internal sealed class PgEncoding
{
    public static readonly PgEncoding Utf8 = new("UTF8", 0, false);
    public static readonly PgEncoding SqlAscii = new("SQL_ASCII", 0, false);

    private static readonly Dictionary<string, PgEncoding> ByCleanName = Build();

    private readonly int _codePage;
    private Encoding? _encoding;

    private PgEncoding(string name, int codePage, bool singleByte)
    {
        Name = name;
        _codePage = codePage;
        IsSingleByte = singleByte;
    }

    /// <summary>Postgres's canonical name (what ParameterStatus and SHOW report).</summary>
    public string Name { get; }

    /// <summary>Bytes go to the engine unchanged.</summary>
    public bool PassesThrough => _codePage == 0;

    /// <summary>One byte per character: every chunk of text converts on its own.</summary>
    public bool IsSingleByte { get; }

    /// <summary>
    /// The .NET encoding, throwing on bytes it cannot read and characters it cannot write (Postgres raises 22021 and
    /// 22P05 for those; a silent '?' would corrupt data).
    /// </summary>
    public Encoding Encoding => _encoding ??= Encoding.GetEncoding(_codePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

    /// <summary>The same, writing '?' for characters it has no equivalent of: for error texts and notices, which must get out.</summary>
    public Encoding Lenient => _lenient ??= Encoding.GetEncoding(_codePage, new EncoderReplacementFallback("?"), DecoderFallback.ExceptionFallback);

    private Encoding? _lenient;

    /// <summary>
    /// Single-byte Windows, KOI8 and DOS code pages leave some bytes unassigned; .NET reads them as the C1 control
    /// characters of the same number, where Postgres refuses them. The ISO 8859 ones assign C1 to 0x80-0x9F.
    /// </summary>
    public bool HasUnassignedC1 => IsSingleByte && !Name.StartsWith("LATIN", StringComparison.Ordinal) && !Name.StartsWith("ISO_8859", StringComparison.Ordinal);

    public override string ToString() => Name;

    /// <summary>The encoding a client names (any case, with Postgres's aliases and punctuation ignored, as clean_encoding_name does).</summary>
    public static PgEncoding? Find(string name) => ByCleanName.GetValueOrDefault(Clean(name));

    /// <summary>
    /// Encodings Postgres has that ZeroPg cannot convert (no .NET equivalent): named so the refusal says which conversion
    /// is missing rather than that the name is unknown.
    /// </summary>
    public static bool IsKnownButUnconvertible(string name) => Clean(name) is "latin6" or "iso885910" or "latin8" or "iso885914" or "latin10"
        or "iso885916" or "euctw" or "muleinternal" or "eucjis2004" or "shiftjis2004";

    private static string Clean(string name) => new string(name.Where(char.IsAsciiLetterOrDigit).ToArray()).ToLowerInvariant();

    private static Dictionary<string, PgEncoding> Build()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var table = new Dictionary<string, PgEncoding>(StringComparer.Ordinal);
        void Add(PgEncoding encoding, params string[] aliases)
        {
            table[Clean(encoding.Name)] = encoding;
            foreach (var alias in aliases)
                table[alias] = encoding;
        }
        Add(Utf8, "unicode");
        Add(SqlAscii);
        Add(new("LATIN1", 28591, true), "iso88591");
        Add(new("LATIN2", 28592, true), "iso88592");
        Add(new("LATIN3", 28593, true), "iso88593");
        Add(new("LATIN4", 28594, true), "iso88594");
        Add(new("LATIN5", 28599, true), "iso88599");
        Add(new("LATIN7", 28603, true), "iso885913");
        Add(new("LATIN9", 28605, true), "iso885915");
        Add(new("ISO_8859_5", 28595, true));
        Add(new("ISO_8859_6", 28596, true));
        Add(new("ISO_8859_7", 28597, true));
        Add(new("ISO_8859_8", 28598, true));
        Add(new("WIN1250", 1250, true), "windows1250");
        Add(new("WIN1251", 1251, true), "windows1251", "win");
        Add(new("WIN1252", 1252, true), "windows1252");
        Add(new("WIN1253", 1253, true), "windows1253");
        Add(new("WIN1254", 1254, true), "windows1254");
        Add(new("WIN1255", 1255, true), "windows1255");
        Add(new("WIN1256", 1256, true), "windows1256");
        Add(new("WIN1257", 1257, true), "windows1257");
        Add(new("WIN1258", 1258, true), "windows1258", "abc", "tcvn", "tcvn5712", "vscii");
        Add(new("WIN866", 866, true), "windows866", "alt");
        Add(new("WIN874", 874, true), "windows874", "tis620");
        Add(new("KOI8R", 20866, true), "koi8");
        Add(new("KOI8U", 21866, true));
        Add(new("EUC_JP", 51932, false));
        Add(new("EUC_CN", 51936, false));
        Add(new("EUC_KR", 51949, false));
        Add(new("SJIS", 932, false), "shiftjis", "mskanji", "windows932");
        Add(new("BIG5", 950, false), "windows950");
        Add(new("GBK", 936, false), "windows936", "cp936");
        Add(new("UHC", 949, false), "windows949", "cp949");
        Add(new("GB18030", 54936, false));
        Add(new("JOHAB", 1361, false));
        return table;
    }
}
