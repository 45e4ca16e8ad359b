using System.CommandLine;
using ZeroPg.Cli.Graduation;

namespace ZeroPg.Cli;

/// <summary>`zeropg graduate`: move a ZeroPg database to a real PostgreSQL server, verified.</summary>
internal static class GraduateCommand
{
    public static Command Create()
    {
        var db = new Option<string>("--db") { Description = "the ZeroPg data directory (no server may be running on it) or a running server's postgresql:// URL", Required = true };
        var to = new Option<string>("--to") { Description = "postgresql:// URL of an empty database on the target PostgreSQL 15-18", Required = true };
        var noOwner = new Option<bool>("--no-owner", "-O") { Description = "the target user owns everything (for targets without the source's roles, e.g. managed services)" };
        var noPrivileges = new Option<bool>("--no-privileges", "-x") { Description = "leave out GRANT/REVOKE" };
        var keepDump = new Option<string?>("--keep-dump") { Description = "keep the dump that was restored in this file" };
        var verifyOnly = new Option<bool>("--verify-only") { Description = "only compare the source with the target (after an earlier graduation)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("graduate", "Dump a ZeroPg database, restore it into PostgreSQL 15-18 in one transaction, verify every table (row counts, checksums) and sequence, and print a report. Exit code 1 on any difference.")
        {
            db, to, noOwner, noPrivileges, keepDump, verifyOnly, quiet,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var log = new ProgressLog("graduate", quiet: parse.GetValue(quiet));
            var request = new GraduateRequest
            {
                Database = parse.GetValue(db)!,
                Target = parse.GetValue(to)!,
                NoOwner = parse.GetValue(noOwner),
                NoPrivileges = parse.GetValue(noPrivileges),
                KeepDump = parse.GetValue(keepDump),
                VerifyOnly = parse.GetValue(verifyOnly),
            };
            return await GraduationCommand.RunAsync(log, () => Graduator.RunAsync(request, Console.Out, log, cancellationToken));
        });
        return command;
    }
}
