namespace ZeroPg.Sql;

/// <summary>Upper-case keywords looked up without allocating.</summary>
internal sealed class KeywordSet(params string[] words)
{
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup =
        new HashSet<string>(words, StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    public bool Contains(ReadOnlySpan<char> word) => _lookup.Contains(word);
}
