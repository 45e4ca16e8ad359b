using Microsoft.AspNetCore.Connections;
using ZeroPg.Hosting;
using ZeroPg.Sessions;

namespace ZeroPg.Server;

/// <summary>Kestrel hands each accepted Postgres connection to a new client session.</summary>
internal sealed class PgConnectionHandler(SessionServices services, ZeroPgMetrics metrics) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        metrics.RecordConnectionAccepted();
        var startup = await SessionStartup.ReadAsync(connection, services);
        if (startup is not null)
            await new ClientSession(connection, services, startup).RunAsync();
    }
}
