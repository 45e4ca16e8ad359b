namespace ZeroPg.Protocol;

/// <summary>The SQLSTATE codes ZeroPg itself raises.</summary>
internal static class SqlState
{
    public const string ProtocolViolation = "08P01";
    public const string ConnectionFailure = "08006";
    public const string TooManyConnections = "53300";
    public const string AdminShutdown = "57P01";
    public const string CrashShutdown = "57P02";
    public const string QueryCanceled = "57014";
    public const string FeatureNotSupported = "0A000";
    public const string ProgramLimitExceeded = "54000";
    public const string InvalidAuthorizationSpecification = "28000";
    public const string InvalidPassword = "28P01";
    public const string InsufficientPrivilege = "42501";
    public const string DuplicatePreparedStatement = "42P05";
    public const string InvalidSqlStatementName = "26000";
    public const string InvalidCursorName = "34000";
    public const string IdleInTransactionTimeout = "25P03";
    public const string IdleSessionTimeout = "57P05";
    public const string TransactionTimeout = "25P04";
    public const string LockNotAvailable = "55P03";
    public const string InternalError = "XX000";
    public const string IoError = "58030";
    public const string ConfigurationLimitExceeded = "53400";
    public const string InvalidParameterValue = "22023";
    public const string InvalidCatalogName = "3D000";
    public const string ObjectInUse = "55006";
    public const string ObjectNotInPrerequisiteState = "55000";
    public const string WrongObjectType = "42809";
    public const string ActiveSqlTransaction = "25001";
    public const string DuplicateDatabase = "42P04";
    public const string SyntaxError = "42601";
    public const string CharacterNotInRepertoire = "22021";
    public const string UntranslatableCharacter = "22P05";
    public const string InFailedSqlTransaction = "25P02";
}
