using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>How a connection ends: a FATAL written if anyone still listens, and the exceptions that mean the client went away.</summary>
internal static class ConnectionErrors
{
    public static async Task TryWriteFatalAsync(PipeWriter output, PgError error)
    {
        try
        {
            ErrorResponse.Write(output, error);
            await output.FlushAsync();
        }
        catch (Exception writeError) when (IsDisconnect(writeError))
        {
            // Nobody is listening any more.
        }
    }

    public static bool IsDisconnect(Exception error) => error is IOException or OperationCanceledException
        or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException or InvalidOperationException;
}
