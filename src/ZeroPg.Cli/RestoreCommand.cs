using System.CommandLine;
using ZeroPg.Cli.Graduation;

namespace ZeroPg.Cli;

/// <summary>`zeropg restore`: a plain pg_dump file (PostgreSQL 12-18) into a ZeroPg data directory.</summary>
internal static class RestoreCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db") { Description = "the data directory: new (created, and removed again if the restore fails) or existing; no server may be running on it", Required = true };
        var file = new Argument<string>("file") { Description = "a plain SQL dump (pg_dump 12-18, or zeropg dump); - reads standard input" };
        var noSingleTransaction = new Option<bool>("--no-single-transaction") { Description = "commit statement by statement instead of all or nothing" };
        var noOwner = new Option<bool>("--no-owner", "-O") { Description = "skip ALTER ... OWNER TO (the restoring user owns everything)" };
        var noPrivileges = new Option<bool>("--no-privileges", "-x") { Description = "skip GRANT and REVOKE" };
        var noCreateRoles = new Option<bool>("--no-create-roles") { Description = "do not create (NOLOGIN) the roles that ownership and grants name but the data directory lacks" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("restore", "Restore a plain SQL dump into a ZeroPg data directory, in one transaction. Progress goes to stderr; an error names the file line.")
        {
            db, file, noSingleTransaction, noOwner, noPrivileges, noCreateRoles, quiet,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var log = new ProgressLog("restore", quiet: parse.GetValue(quiet));
            var request = new RestoreRequest
            {
                Directory = parse.GetValue(db)!,
                File = parse.GetValue(file)!,
                SingleTransaction = !parse.GetValue(noSingleTransaction),
                NoOwner = parse.GetValue(noOwner),
                NoPrivileges = parse.GetValue(noPrivileges),
                CreateMissingRoles = !parse.GetValue(noCreateRoles),
            };
            return await GraduationCommand.RunAsync(log, async () =>
            {
                await Restorer.RunAsync(request, log, cancellationToken);
                return 0;
            });
        });
        return command;
    }
}
