using System.Runtime.CompilerServices;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>The in-process servers of these tests back up to s3:// as the zeropg tool does: with ZeroPg.Backups.S3 registered.</summary>
internal static class S3BackupsRegistration
{
#pragma warning disable CA2255 // a test assembly's one start hook: the servers it starts need the s3:// store before the first test
    [ModuleInitializer]
    internal static void Register() => ZeroPg.Backups.S3.S3Backups.Register();
#pragma warning restore CA2255
}
