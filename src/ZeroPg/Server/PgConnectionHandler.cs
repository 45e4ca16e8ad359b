using Microsoft.AspNetCore.Connections;
using ZeroPg.Databases;
using ZeroPg.Engine;
using ZeroPg.Hosting;
using ZeroPg.Protocol;
using ZeroPg.Sessions;

namespace ZeroPg.Server;

/// <summary>
/// Kestrel hands each accepted Postgres connection here: its startup packet names the database (default: the user
/// name, as libpq and Postgres do), whose services the new client session gets. A database that does not exist is
/// refused after authentication, as Postgres does: FATAL 3D000.
/// </summary>
internal sealed class PgConnectionHandler(SessionServices services, ZeroPgMetrics metrics) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        metrics.RecordConnectionAccepted();
        var start = await SessionStartup.ReadAsync(connection, services);
        if (start is null)
            return;
        var parameters = start.Packet.Parameters;
        var name = parameters.GetValueOrDefault("database") is { Length: > 0 } database ? database : parameters.GetValueOrDefault("user") ?? "";
        DatabaseEntry? entry = null;
        var sessionServices = services;
        PgError? refusal = null;
        var entered = false;
        try
        {
            try
            {
                entry = await services.Databases.ConnectAsync(name, connection.ConnectionClosed);
            }
            catch (PgErrorException error)
            {
                refusal = error.Error;
            }
            catch (EngineFailedException error)
            {
                refusal = PgError.Fatal(SqlState.ConnectionFailure, $"database \"{name}\" could not be made: {error.Message}");
            }
            if (entry is not null)
            {
                try
                {
                    sessionServices = await entry.EnterAsync();
                    entered = true;
                }
                catch (PgErrorException error)
                {
                    refusal = error.Error;
                }
                catch (EngineFailedException error)
                {
                    refusal = PgError.Fatal(SqlState.ConnectionFailure, $"the engine of database \"{name}\" could not start: {error.Message}");
                }
            }
            await new ClientSession(connection, sessionServices, start, refusal).RunAsync();
        }
        finally
        {
            if (entered)
                entry!.Leave();
            if (start.Tls is not null)
                await start.Tls.DisposeAsync();
        }
    }
}
