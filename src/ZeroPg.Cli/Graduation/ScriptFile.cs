using System.Text;
using ZeroPg.Cli.Scripts;
using ZeroPg.Sql;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// A script to restore, looked at once before anything runs: its encoding (pg_dump's
/// <c>SET client_encoding</c>), the extensions it creates (PGlite must preload them, and can only
/// preload what it bundles), and whether it is a pg_dump file and complete (pg_dump ends with
/// "PostgreSQL database dump complete"; a file cut anywhere else is refused before it changes
/// anything). Standard input is first copied to a temporary file, so it can be read twice.
/// </summary>
internal sealed class ScriptFile : IDisposable
{
    private readonly string? _spooled;

    private ScriptFile(string path, string? spooled, string displayName)
    {
        Path = path;
        _spooled = spooled;
        DisplayName = displayName;
    }

    public string Path { get; }

    public string DisplayName { get; }

    public long Length => new FileInfo(Path).Length;

    public Encoding Encoding { get; private set; } = Utf8;

    /// <summary>CREATE EXTENSION names with the line of each.</summary>
    public IReadOnlyList<(string Name, int Line)> Extensions { get; private set; } = [];

    public bool IsPgDump { get; private set; }

    public bool IsComplete { get; private set; }

    private static readonly Encoding Utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    public static async Task<ScriptFile> OpenAsync(string path, CancellationToken cancellationToken)
    {
        ScriptFile file;
        if (path == "-")
        {
            var spooled = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"zeropg-restore-{Environment.ProcessId}-{Guid.NewGuid():N}.sql");
            await using (var input = Console.OpenStandardInput())
            await using (var output = new FileStream(spooled, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                await input.CopyToAsync(output, cancellationToken);
            file = new ScriptFile(spooled, spooled, "standard input");
        }
        else
        {
            if (!File.Exists(path))
                throw new GraduationException($"{path}: no such file");
            file = new ScriptFile(System.IO.Path.GetFullPath(path), null, path);
        }
        try
        {
            await Task.Run(file.Scan, cancellationToken);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public TextReader OpenReader(out Stream stream)
    {
        stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return new StreamReader(stream, Encoding, detectEncodingFromByteOrderMarks: false, 1 << 16);
    }

    private void Scan()
    {
        // Latin-1 maps every byte to one character, so this pass never fails on the encoding and
        // sees the ASCII keywords it looks for as they are.
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var text = new StreamReader(stream, Encoding.Latin1, false, 1 << 16);
        var reader = new ScriptReader(text);
        var extensions = new List<(string, int)>();
        string? encoding = null;
        var first = true;
        while (reader.Next() is { } item)
        {
            if (item is ScriptCopyData or ScriptCopyEnd)
                continue;
            if (first)
            {
                IsPgDump = item.Raw.Contains("-- PostgreSQL database dump", StringComparison.Ordinal);
                first = false;
            }
            if (item.Raw.Contains("-- PostgreSQL database dump complete", StringComparison.Ordinal))
                IsComplete = true;
            if (item is not ScriptStatement statement)
                continue;
            if (statement.StartsWith("SET", "CLIENT_ENCODING") && ClientEncoding(new StatementTokens(statement.Sql)) is { } set)
            {
                var name = set.ToUpperInvariant().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
                if (encoding is not null && encoding != name)
                    throw new ScriptFormatException(statement.Line, $"the client encoding changes in the middle of the file (to {set}); that is not supported");
                encoding = name;
            }
            else if (statement.StartsWith("SET", "STANDARD_CONFORMING_STRINGS"))
            {
                reader.StandardConformingStrings = !statement.Sql.Contains("off", StringComparison.OrdinalIgnoreCase);
            }
            else if (statement.StartsWith("CREATE", "EXTENSION") && CreatedExtension(new StatementTokens(statement.Sql)) is { } extension)
            {
                extensions.Add((StatementTokens.Resolve(extension), statement.Line));
            }
        }
        Extensions = extensions;
        if (encoding is not null)
            Encoding = EncodingFor(encoding) ?? throw new GraduationException($"the file's client encoding {encoding} is not supported", "Dump it again with -E UTF8.");
    }

    /// <summary>.NET's decoder for a PostgreSQL encoding name (normalised: upper case, no - or _).</summary>
    internal static Encoding? EncodingFor(string name)
    {
        if (name is "UTF8" or "UNICODE" or "SQLASCII")
            return Utf8; // SQL_ASCII: bytes that are not UTF-8 fail loudly rather than change silently
        int? codePage = name switch
        {
            "LATIN1" => 28591, "LATIN2" => 28592, "LATIN3" => 28593, "LATIN4" => 28594, "LATIN5" => 28599,
            "LATIN6" => 28600, "LATIN7" => 28603, "LATIN8" => 28604, "LATIN9" => 28605, "LATIN10" => 28606,
            "ISO88595" => 28595, "ISO88596" => 28596, "ISO88597" => 28597, "ISO88598" => 28598,
            "WIN866" => 866, "WIN874" => 874, "WIN1250" => 1250, "WIN1251" => 1251, "WIN1252" => 1252, "WIN1253" => 1253,
            "WIN1254" => 1254, "WIN1255" => 1255, "WIN1256" => 1256, "WIN1257" => 1257, "WIN1258" => 1258,
            "KOI8R" => 20866, "KOI8U" => 21866, "EUCJP" => 51932, "EUCKR" => 51949, "SJIS" => 932, "GBK" => 936,
            "BIG5" => 950, "UHC" => 949, "GB18030" => 54936,
            _ => null,
        };
        if (codePage is not { } page)
            return null;
        try
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(page, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback)
                ?? Encoding.GetEncoding(page, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (_spooled is not null)
            File.Delete(_spooled);
    }

    /// <summary>The encoding of <c>SET client_encoding = 'name'</c> (or TO); null for any other form.</summary>
    private static string? ClientEncoding(StatementTokens tokens)
        => tokens.Count >= 4 && tokens.AreWords(0, "SET", "CLIENT_ENCODING")
            && (tokens[2].IsOperator(tokens.Sql, '=') || tokens.AreWords(2, "TO")) && tokens[3].Kind == SqlTokenKind.String
            ? tokens.Inside(tokens[3])
            : null;

    /// <summary>The extension's name as written in <c>CREATE EXTENSION [IF NOT EXISTS] name</c>.</summary>
    private static string? CreatedExtension(StatementTokens tokens)
        => tokens.AreWords(0, "CREATE", "EXTENSION") ? tokens.NameAt(tokens.AreWords(2, "IF", "NOT", "EXISTS") ? 5 : 2) : null;
}
