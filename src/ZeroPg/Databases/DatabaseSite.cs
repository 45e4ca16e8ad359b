namespace ZeroPg.Databases;

/// <summary>
/// Where one database's engine runs: its name (the database the engine opens in its cluster), its data
/// directory ("memory://" or a path) and, for a database ZeroPg created, the tar its cluster first starts
/// from (<see cref="Seed"/>). The primary site is the server's own <c>postgres</c> database (--db, the
/// snapshot cache, migrations, backups, warm engines); every other database is a cluster of its own.
/// </summary>
internal sealed record DatabaseSite(string Name, string DataDirectory, string? Seed, bool IsPrimary)
{
    public const string PrimaryName = "postgres";

    /// <summary>
    /// Under --db DIR, other databases live in DIR/.zeropg-databases/NAME, a whole cluster each. The dot keeps the
    /// folder ZeroPg's own: a failed snapshot load clears everything else in DIR, and the backup leaves it out.
    /// </summary>
    public const string FolderName = ".zeropg-databases";

    /// <summary>
    /// The database of <see cref="Seed"/>'s cluster this one starts as (a spare's placeholder, or the template it copies): an
    /// engine started from the seed opens it and renames it to <see cref="Name"/> (<see cref="DatabaseRename"/>). Null: <see cref="Name"/>.
    /// </summary>
    public string? SeedDatabase { get; init; }

    /// <summary>The database's oid inside its own cluster (its files are base/&lt;oid&gt;): what its own clients see in pg_database.</summary>
    public uint EngineOid { get; init; } = DatabaseSeeds.EngineOid;

    /// <summary>Extensions the engine preloads besides the server's: those of the template the database was copied from.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    public bool IsMemory => string.Equals(DataDirectory, ZeroPgOptions.MemoryDatabase, StringComparison.OrdinalIgnoreCase);

    public static DatabaseSite Primary(ZeroPgOptions options) => new(PrimaryName,
        options.IsMemory ? ZeroPgOptions.MemoryDatabase : Path.GetFullPath(options.DataDirectory), null, IsPrimary: true) { EngineOid = DatabaseEntry.PrimaryOid };
}
