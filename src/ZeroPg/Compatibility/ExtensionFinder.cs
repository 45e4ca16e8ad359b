using System.Text.RegularExpressions;

namespace ZeroPg.Compatibility;

/// <summary>
/// Finds the extensions a migration or schema file needs: explicit creations (SQL CREATE EXTENSION, also
/// inside strings of JS/TS/Python/Ruby/C# migrations; Prisma's <c>extensions = [...]</c>; Django's
/// CreateExtension operations; EF Core's HasPostgresExtension; Rails' enable_extension) and tells, uses
/// of an extension's types and functions (citext columns, gen_random_bytes() for pgcrypto, gin_trgm_ops
/// and similarity() for pg_trgm, ...). gen_random_uuid() is built in since Postgres 13: not a tell.
/// </summary>
internal static partial class ExtensionFinder
{
    private static readonly (string Extension, Regex Pattern)[] Tells =
    [
        ("citext", new(@"\bcitext\b", RegexOptions.IgnoreCase)),
        ("pgcrypto", new(@"\b(gen_random_bytes|gen_salt|pgp_sym_encrypt|pgp_sym_decrypt|pgp_pub_encrypt|pgp_pub_decrypt|crypt|hmac)\s*\(", RegexOptions.IgnoreCase)),
        ("pgcrypto", new(@"\bdigest\s*\([^()]*,\s*'(sha\d*|md5)'", RegexOptions.IgnoreCase)),
        ("pg_trgm", new(@"\b(gin_trgm_ops|gist_trgm_ops)\b|\b(similarity|word_similarity|strict_word_similarity|show_trgm)\s*\(", RegexOptions.IgnoreCase)),
        ("uuid-ossp", new(@"\buuid_generate_v[1345](mc)?\s*\(", RegexOptions.IgnoreCase)),
        ("hstore", new(@"\bhstore\b", RegexOptions.IgnoreCase)),
        ("ltree", new(@"\b(ltree|lquery)\b", RegexOptions.IgnoreCase)),
        ("vector", new(@"\bvector\s*\(\s*\d+\s*\)|\b(vector_cosine_ops|vector_l2_ops|vector_ip_ops|halfvec_\w+_ops)\b", RegexOptions.IgnoreCase)),
        ("postgis", new(@"\b(geometry|geography)\s*\(|\bST_(MakePoint|SetSRID|Distance|DWithin|Contains|Intersects|GeomFromText|Transform|AsGeoJSON)\s*\(", RegexOptions.IgnoreCase)),
        ("earthdistance", new(@"\b(ll_to_earth|earth_distance|earth_box)\s*\(", RegexOptions.IgnoreCase)),
        ("unaccent", new(@"\bunaccent\s*\(", RegexOptions.IgnoreCase)),
        ("fuzzystrmatch", new(@"\b(levenshtein|soundex|metaphone|dmetaphone|difference)\s*\(", RegexOptions.IgnoreCase)),
        ("moddatetime", new(@"\bmoddatetime\s*\(", RegexOptions.IgnoreCase)),
        ("btree_gist", new(@"\bEXCLUDE\s+USING\s+gist\b", RegexOptions.IgnoreCase)),
        ("timescaledb", new(@"\bcreate_hypertable\s*\(", RegexOptions.IgnoreCase)),
        ("pg_cron", new(@"\bcron\.schedule\s*\(", RegexOptions.IgnoreCase)),
    ];

    private static readonly Dictionary<string, string> DjangoOperations = new(StringComparer.Ordinal)
    {
        ["BloomExtension"] = "bloom",
        ["BtreeGinExtension"] = "btree_gin",
        ["BtreeGistExtension"] = "btree_gist",
        ["CITextExtension"] = "citext",
        ["CryptoExtension"] = "pgcrypto",
        ["HStoreExtension"] = "hstore",
        ["TrigramExtension"] = "pg_trgm",
        ["UnaccentExtension"] = "unaccent",
    };

    /// <summary>(extension, line, text) for every finding in one file's text.</summary>
    public static IEnumerable<(string Extension, int Line, string Text)> Find(string text, bool isSql, bool isPrisma)
    {
        var scanned = isSql ? SqlLineComment().Replace(text, m => new string(' ', m.Length)) : text;
        foreach (Match match in CreateExtension().Matches(scanned))
            yield return (Engine.ExtensionStatements.Name(match.Groups["name"].Value), LineOf(text, match.Index), Snippet(text, match.Index));
        foreach (Match match in DjangoCreate().Matches(scanned))
            yield return (match.Groups["name"].Value, LineOf(text, match.Index), Snippet(text, match.Index));
        foreach (Match match in DjangoOperation().Matches(scanned))
            yield return (DjangoOperations[match.Groups["op"].Value], LineOf(text, match.Index), Snippet(text, match.Index));
        foreach (Match match in EfCoreOrRails().Matches(scanned))
            yield return (match.Groups["name"].Value, LineOf(text, match.Index), Snippet(text, match.Index));
        if (isPrisma)
        {
            foreach (Match match in PrismaExtensions().Matches(scanned))
            {
                foreach (Match item in PrismaExtensionItem().Matches(match.Groups["list"].Value))
                {
                    var name = item.Groups["map"].Success ? item.Groups["map"].Value : item.Groups["name"].Value;
                    yield return (name.Replace('_', '-') == "uuid-ossp" ? "uuid-ossp" : name, LineOf(text, match.Index), Snippet(text, match.Index));
                }
            }
        }
        foreach (var (extension, pattern) in Tells)
        {
            foreach (Match match in pattern.Matches(scanned))
                yield return (extension, LineOf(text, match.Index), Snippet(text, match.Index));
        }
    }

    internal static int LineOf(string text, int index)
    {
        var line = 1;
        for (var i = 0; i < index; i++)
        {
            if (text[i] == '\n')
                line++;
        }
        return line;
    }

    internal static string Snippet(string text, int index)
    {
        var start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        if (index == 0)
            start = 0;
        var end = text.IndexOf('\n', index);
        var line = text[start..(end < 0 ? text.Length : end)].Trim();
        return line.Length > 160 ? line[..157] + "..." : line;
    }

    [GeneratedRegex("""\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(?<name>"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex CreateExtension();

    [GeneratedRegex("""\bCreateExtension\(\s*(?:name\s*=\s*)?['"](?<name>[\w-]+)['"]""")]
    private static partial Regex DjangoCreate();

    [GeneratedRegex(@"\b(?<op>BloomExtension|BtreeGinExtension|BtreeGistExtension|CITextExtension|CryptoExtension|HStoreExtension|TrigramExtension|UnaccentExtension)\s*\(")]
    private static partial Regex DjangoOperation();

    [GeneratedRegex("""\b(?:HasPostgresExtension|enable_extension)\s*\(?\s*["'](?<name>[\w-]+)["']""")]
    private static partial Regex EfCoreOrRails();

    [GeneratedRegex(@"\bextensions\s*=\s*\[(?<list>[^\]]*)\]")]
    private static partial Regex PrismaExtensions();

    [GeneratedRegex("""(?<name>[A-Za-z_][\w]*)\s*(?:\((?:[^()]*?\bmap\s*:\s*"(?<map>[^"]+)")?[^()]*\))?""")]
    private static partial Regex PrismaExtensionItem();

    [GeneratedRegex("--[^\n]*")]
    private static partial Regex SqlLineComment();
}
