using ZeroPg.Protocol;

namespace ZeroPg.Databases;

/// <summary>The errors of database commands and connections, in Postgres's words (checked against PostgreSQL 15).</summary>
internal static class DatabaseErrors
{
    public static PgError Missing(string name, bool fatal = false) => fatal
        ? PgError.Fatal(SqlState.InvalidCatalogName, $"database \"{name}\" does not exist")
        : PgError.Error(SqlState.InvalidCatalogName, $"database \"{name}\" does not exist");

    public static PgError MissingTemplate(string name) => PgError.Error(SqlState.InvalidCatalogName, $"template database \"{name}\" does not exist");

    public static PgError Exists(string name) => PgError.Error(SqlState.DuplicateDatabase, $"database \"{name}\" already exists");

    public static PgError InUse(string name, int others, bool source = false) => PgError.Error(SqlState.ObjectInUse,
        $"{(source ? "source " : "")}database \"{name}\" is being accessed by other users", null,
        others == 1 ? "There is 1 other session using the database." : $"There are {others} other sessions using the database.");

    public static PgError DropCurrent { get; } = PgError.Error(SqlState.ObjectInUse, "cannot drop the currently open database");

    public static PgError RenameCurrent { get; } = PgError.Error(SqlState.FeatureNotSupported, "current database cannot be renamed");

    public static PgError PrimaryFixed(string verb) => PgError.Error(SqlState.FeatureNotSupported, $"cannot {verb} database \"postgres\" in ZeroPg",
        "The postgres database is the server's own (--db); other databases are made with CREATE DATABASE.");

    public static PgError NotAcceptingConnections(string name) => PgError.Fatal(SqlState.ObjectNotInPrerequisiteState, $"database \"{name}\" is not currently accepting connections");

    public static PgError DropTemplate { get; } = PgError.Error(SqlState.WrongObjectType, "cannot drop a template database");

    public static PgError TemplateFixed { get; } = PgError.Error(SqlState.FeatureNotSupported, "cannot rename a template database in ZeroPg",
        "template0 and template1 are the server's templates: copy one with CREATE DATABASE name TEMPLATE template1 instead.");

    public static PgError InTransaction(string command) => PgError.Error(SqlState.ActiveSqlTransaction, $"{command} cannot run inside a transaction block");

    public static PgError NotAlone(string command) => PgError.Error(SqlState.FeatureNotSupported, $"{command} must be sent on its own in ZeroPg",
        "Send it as a query of its own (or Parse/Bind/Execute/Sync with nothing else), outside a transaction block.");

    public static PgError Lost(string name, string why) => PgError.Fatal(SqlState.IoError, $"database \"{name}\" lost its data: {why}",
        "A memory:// database lives in memory only; drop it (DROP DATABASE) and make it again, or use --db DIR for data that must outlive its engine.");

    public static PgError BadName(string name) => PgError.Error(SqlState.InvalidCatalogName, $"invalid database name \"{name}\"",
        "ZeroPg keeps each database in a folder of its name: use letters, digits, _ , - and . (not starting with a dot), at most 63 bytes.");
}
