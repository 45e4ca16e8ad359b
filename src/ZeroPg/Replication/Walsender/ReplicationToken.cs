namespace ZeroPg.Replication.Walsender;

internal enum ReplicationTokenKind
{
    /// <summary>An unquoted word, lowercased (keywords are matched on it case-insensitively).</summary>
    Word,
    /// <summary>A double-quoted identifier, case kept.</summary>
    QuotedIdentifier,
    /// <summary>A single-quoted string constant.</summary>
    String,
    /// <summary>An unsigned integer.</summary>
    Number,
    /// <summary>A WAL position <c>hi/lo</c>.</summary>
    Lsn,
    LeftParen,
    RightParen,
    Comma,
    Dot,
    Semicolon,
    End,
}

internal readonly record struct ReplicationToken(ReplicationTokenKind Kind, string Text)
{
    public bool IsWord(string keyword) => Kind == ReplicationTokenKind.Word && Text == keyword;
    public bool IsIdentifier => Kind is ReplicationTokenKind.Word or ReplicationTokenKind.QuotedIdentifier;
}
