using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using WireSecurity;

// serve   --port N --cert-dir DIR --snapshot TAR --init-sql SQL   (prints {"port":N,"cert":...} when ready)
// npgsql  --port N --user U --password P [--root CERT] [--negotiation direct] [--channel-binding require] [--ssl-mode M]
var options = new Dictionary<string, string>();
for (var i = 1; i + 1 < args.Length; i += 2)
    options[args[i].TrimStart('-')] = args[i + 1];
string Opt(string name, string fallback = "") => options.GetValueOrDefault(name, fallback);

if (args.Length > 0 && args[0] == "npgsql")
{
    var csb = new NpgsqlConnectionStringBuilder
    {
        Host = "localhost",
        Port = int.Parse(Opt("port")),
        Username = Opt("user"),
        Password = Opt("password"),
        Database = "postgres",
        SslMode = Enum.Parse<SslMode>(Opt("ssl-mode", "VerifyFull")),
        RootCertificate = Opt("root") is { Length: > 0 } root ? root : null,
        SslNegotiation = Opt("negotiation", "postgres") == "direct" ? SslNegotiation.Direct : SslNegotiation.Postgres,
        ChannelBinding = Enum.Parse<ChannelBinding>(Opt("channel-binding", "Prefer"), ignoreCase: true),
        Pooling = false,
    };
    try
    {
        await using var conn = new NpgsqlConnection(csb.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select session_user::text || '/' || current_user::text", conn);
        Console.WriteLine($"npgsql ok: {await cmd.ExecuteScalarAsync()} (ssl mode {csb.SslMode}, negotiation {csb.SslNegotiation}, channel binding {csb.ChannelBinding})");
    }
    catch (Exception e)
    {
        var pg = e as PostgresException ?? e.InnerException as PostgresException;
        Console.WriteLine(pg is not null ? $"npgsql error: {pg.Severity} {pg.SqlState}: {pg.MessageText}" : $"npgsql error: {e.GetType().Name}: {e.Message}");
    }
    return;
}

var engine = await EngineHost.StartAsync(Opt("host-script"), Opt("snapshot") is { Length: > 0 } s ? s : null);
if (Opt("init-sql") is { Length: > 0 } init)
    await engine.QueryColumnAsync(init);
var certificate = Opt("cert-dir") is { Length: > 0 } dir && !OperatingSystem.IsWindows() ? SelfSignedCertificate.LoadOrCreate(dir) : null;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(new ServerState(engine, certificate));
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, int.Parse(Opt("port", "0")), listen => listen.UseConnectionHandler<PgConnection>()));
var app = builder.Build();
await app.StartAsync();
var address = app.Urls.First();
Console.WriteLine(JsonSerializer.Serialize(new { port = new Uri(address).Port, cert = certificate is null ? null : Path.Combine(Opt("cert-dir"), "server.crt") }));
await app.WaitForShutdownAsync();
await engine.DisposeAsync();
