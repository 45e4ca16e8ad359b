using System.CommandLine;
using ZeroPg.Cli;

var root = new RootCommand("ZeroPg: a PostgreSQL server backed by PGlite (Postgres 18 in WebAssembly). No native Postgres, no Docker.")
{
    ServeCommand.Create(),
    CheckCommand.Create(),
    MigrateCommand.Create(),
    BackupCommand.Create(),
    DumpCommand.Create(),
    RestoreCommand.Create(),
    GraduateCommand.Create(),
    TuneCommand.Create(),
};
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
