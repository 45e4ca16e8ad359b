using ZeroPg.Protocol;

namespace ZeroPg.Replication.Walsender;

/// <summary>The errors a walsender raises, with Postgres's texts (walsender.c, slot.c, pgoutput.c) and SQLSTATEs.</summary>
internal static class ReplicationErrors
{
    public const string InvalidParameterValue = "22023";
    public const string InsufficientPrivilege = "42501";
    public const string UndefinedObject = "42704";
    public const string DuplicateObject = "42710";
    public const string InvalidName = "42602";
    public const string ObjectInUse = "55006";
    public const string FeatureNotSupported = "0A000";
    public const string ActiveSqlTransaction = "25001";
    public const string QueryCanceled = "57014";
    public const string UndefinedFile = "58P01";

    public static PgErrorException Error(string sqlState, string message, string? hint = null, string? detail = null)
        => new(PgError.Error(sqlState, message, hint, detail));

    public static PgErrorException NoSuchSlot(string slot) => Error(UndefinedObject, $"replication slot \"{slot}\" does not exist");

    public static PgErrorException SlotActive(string slot, int pid) => Error(ObjectInUse, $"replication slot \"{slot}\" is active for PID {pid}");

    public static PgError PermissionDenied => PgError.Fatal(InsufficientPrivilege, "permission denied to start WAL sender",
        detail: "Only roles with the REPLICATION attribute may start a WAL sender process.",
        hint: "Connect as a superuser, or ALTER ROLE name REPLICATION.");

    /// <summary>Slot names as slot.c's ReplicationSlotValidateName allows them: lower-case letters, digits, underscore; 1-63 bytes.</summary>
    public static void ValidateSlotName(string name)
    {
        if (name.Length == 0)
            throw Error(InvalidName, $"replication slot name \"{name}\" is too short");
        if (name.Length > 63)
            throw Error(InvalidName, $"replication slot name \"{name}\" is too long");
        foreach (var c in name)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_'))
                throw Error(InvalidName, $"replication slot name \"{name}\" contains invalid character",
                    "Replication slot names may only contain lower case letters, numbers, and the underscore character.");
        }
    }
}
