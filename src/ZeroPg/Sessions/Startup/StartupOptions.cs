namespace ZeroPg.Sessions;

/// <summary>Parses the startup packet's `options` (e.g. "-c search_path=app -c statement_timeout=5s --work_mem=8MB").</summary>
internal static class StartupOptions
{
    public static IEnumerable<(string Name, string Value)> Parse(string options)
    {
        var words = Split(options).ToList();
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            string? assignment = null;
            if (word == "-c" && i + 1 < words.Count)
                assignment = words[++i];
            else if (word.StartsWith("-c", StringComparison.Ordinal) && word.Length > 2)
                assignment = word[2..];
            else if (word.StartsWith("--", StringComparison.Ordinal))
                assignment = word[2..];
            var equals = assignment?.IndexOf('=') ?? -1;
            if (assignment is not null && equals > 0)
                yield return (assignment[..equals].Replace('-', '_'), assignment[(equals + 1)..]);
        }
    }

    /// <summary>Whitespace separates words; a backslash escapes the next character (libpq's rule).</summary>
    private static IEnumerable<string> Split(string options)
    {
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < options.Length; i++)
        {
            var c = options[i];
            if (c == '\\' && i + 1 < options.Length)
                current.Append(options[++i]);
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                    yield return current.ToString();
                current.Clear();
            }
            else
                current.Append(c);
        }
        if (current.Length > 0)
            yield return current.ToString();
    }
}
