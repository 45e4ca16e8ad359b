using System.CommandLine;
using ZeroPg.Cli.Graduation;

namespace ZeroPg.Cli;

/// <summary>`zeropg dump`: plain SQL that psql restores into PostgreSQL 15 to 18.</summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db") { Description = "a ZeroPg data directory (no server may be running on it) or the postgresql:// URL of a running server", Required = true };
        var file = new Option<string?>("--file", "-f") { Description = "write the dump to this file (written whole or not at all); default stdout" };
        var schemaOnly = new Option<bool>("--schema-only", "-s") { Description = "only the definitions, no data" };
        var dataOnly = new Option<bool>("--data-only", "-a") { Description = "only the data" };
        var tables = new Option<string[]>("--table", "-t") { Description = "only this table (pg_dump pattern); may be repeated", AllowMultipleArgumentsPerToken = false };
        var target = new Option<int>("--target-version") { Description = "oldest PostgreSQL major version that must accept the dump (15-18)", DefaultValueFactory = _ => TargetCompatibility.OldestTarget };
        var noOwner = new Option<bool>("--no-owner", "-O") { Description = "no ALTER ... OWNER TO: the restoring user owns everything" };
        var noPrivileges = new Option<bool>("--no-privileges", "-x") { Description = "no GRANT/REVOKE" };
        var noRoles = new Option<bool>("--no-roles") { Description = "do not add the roles that ownership and grants refer to" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("dump", "Write a database as plain SQL (pg_dump 18) that `psql -v ON_ERROR_STOP=1` restores into PostgreSQL 15-18. Progress goes to stderr.")
        {
            db, file, schemaOnly, dataOnly, tables, target, noOwner, noPrivileges, noRoles, quiet,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var log = new ProgressLog("dump", quiet: parse.GetValue(quiet));
            var request = new DumpRequest
            {
                Database = parse.GetValue(db)!,
                OutputFile = parse.GetValue(file) is { Length: > 0 } f && f != "-" ? f : null,
                SchemaOnly = parse.GetValue(schemaOnly),
                DataOnly = parse.GetValue(dataOnly),
                Tables = parse.GetValue(tables) ?? [],
                TargetVersion = parse.GetValue(target),
                NoOwner = parse.GetValue(noOwner),
                NoPrivileges = parse.GetValue(noPrivileges),
                NoRoles = parse.GetValue(noRoles),
            };
            return await GraduationCommand.RunAsync(log, async () =>
            {
                await Dumper.RunAsync(request, log, cancellationToken);
                return 0;
            });
        });
        return command;
    }
}

/// <summary>Runs a graduation command's body: its errors become a message, a hint and exit code 1.</summary>
internal static class GraduationCommand
{
    public static async Task<int> RunAsync(ProgressLog log, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (GraduationException error)
        {
            log.Error(error.Message, error.Hint);
            return 1;
        }
        catch (OperationCanceledException)
        {
            log.Error("cancelled");
            return 130;
        }
    }
}
