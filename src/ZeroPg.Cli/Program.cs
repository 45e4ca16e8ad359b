using System.CommandLine;
using ZeroPg.Cli;

InheritedSignals.ReclaimSigint(); // before .NET first looks at SIGINT, so that `kill -INT` stops a background server too
ZeroPg.Backups.S3.S3Backups.Register(); // s3:// backups: the tool keeps them, ZeroPg.Server has no AWS SDK

var root = new RootCommand("""
    ZeroPg: a PostgreSQL server backed by PGlite (Postgres 18 in WebAssembly). No native Postgres, no Docker.

    Examples:
      zeropg serve                                   in-memory database on port 5432
      zeropg serve -p 0 --db ./data                  a data directory, a free port (printed as JSON)
      POSTGRES_PASSWORD=s3cret zeropg serve -H 0.0.0.0 --tls self-signed
      zeropg serve --init ./initdb.d -c work_mem=64MB --run 'dotnet test'
      zeropg status --db ./data; zeropg stop --db ./data
      zeropg dump --db ./data -f app.sql; zeropg graduate --db ./data --to postgresql://prod/app
      eval "$(zeropg completion bash)"               tab completion (bash, zsh, pwsh)
    """)
{
    ServeCommand.Create(),
    ServerControlCommands.Status(),
    ServerControlCommands.Stop(),
    CheckCommand.Create(),
    MigrateCommand.Create(),
    BackupCommand.Create(),
    DumpCommand.Create(),
    RestoreCommand.Create(),
    GraduateCommand.Create(),
    TuneCommand.Create(),
    CompletionCommand.Create(),
};
VersionCommand.Install(root);
// -h, -? and --help print help at every level (System.CommandLine's help option is recursive); serve's host is --host or -H.
return await CommandLineManners.InvokeAsync(root, args, new InvocationConfiguration { ProcessTerminationTimeout = null });
