using Microsoft.AspNetCore.Connections;
using ZeroPg.Sessions;

namespace ZeroPg.Server;

/// <summary>Kestrel hands each accepted Postgres connection to a new client session.</summary>
internal sealed class PgConnectionHandler(SessionServices services) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection)
        => new ClientSession(connection, services).RunAsync();
}
