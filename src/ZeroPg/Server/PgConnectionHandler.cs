using Microsoft.AspNetCore.Connections;
using ZeroPg.Hosting;
using ZeroPg.Sessions;

namespace ZeroPg.Server;

/// <summary>Kestrel hands each accepted Postgres connection to a new client session.</summary>
internal sealed class PgConnectionHandler(SessionServices services, ZeroPgMetrics metrics) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection)
    {
        metrics.RecordConnectionAccepted();
        return new ClientSession(connection, services).RunAsync();
    }
}
