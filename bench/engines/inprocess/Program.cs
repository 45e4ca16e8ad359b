// A prototype, not ZeroPg: PGlite in this process's V8 (ClearScript) behind a minimal Postgres wire server, to measure
// what an engine inside the server's process would give pgbench -S. bench/engines/inprocess/run.sh runs it beside ZeroPg and
// native Postgres; bench/engines/FINDINGS.md, "An engine in the server's process", has what it found.
//
//   dotnet InProcessEngine.dll PGLITE_DIST [--inline | --node-host NODE HOST_MJS] [--kestrel]
//   (default) the engine in this process, on a thread of its own, and a sender thread (EnginePipeline)
//   --inline: the socket thread runs the engine and sends the reply itself (InlineEngine)
//   --node-host: the control, ZeroPg's engine host in a Node process of its own (NodeHostPipeline)
//   --kestrel: clients through Kestrel's socket transport and pipes, as ZeroPg's server has them (KestrelClient), instead of
//              bare sockets (SocketClient)
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ZeroPg.Bench.InProcess;

var dist = args.Length > 0 ? args[0] : throw new ArgumentException("usage: InProcessEngine PGLITE_DIST [--inline | --node-host NODE HOST_MJS] [--kestrel]");
var started = Stopwatch.StartNew();
IBatchSink sink;
var nodeHost = Array.IndexOf(args, "--node-host");
if (nodeHost > 0)
    sink = NodeHostPipeline.Start(args[nodeHost + 1], args[nodeHost + 2]);
else
{
    var (engine, version) = await PgliteInV8.CreateAsync(dist);
    Console.Error.WriteLine(version);
    if (args.Contains("--inline"))
        sink = new InlineEngine(engine);
    else
    {
        var pipeline = new EnginePipeline(engine);
        pipeline.Start();
        sink = pipeline;
    }
}
Console.Error.WriteLine($"engine created in {started.ElapsedMilliseconds} ms");
if (args.Contains("--kestrel"))
{
    // An empty builder: no configuration files, so no file watcher (the slim builder's woke at every write to the doorbell).
    var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
    builder.WebHost.UseKestrelCore();
    builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        listen.Run(async connection =>
        {
            try { await new WireConnection(new KestrelClient(connection.Transport), sink).RunAsync(); }
            catch (Exception e) when (e is IOException or EndOfStreamException or ConnectionResetException) { }
        })));
    var app = builder.Build();
    await app.StartAsync();
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    Console.WriteLine($"{{\"port\":{new Uri(address).Port}}}");
    await app.WaitForShutdownAsync();
    return;
}
var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
Console.WriteLine($"{{\"port\":{((IPEndPoint)listener.LocalEndpoint).Port}}}");
while (true)
{
    var socket = await listener.AcceptSocketAsync();
    socket.NoDelay = true;
    _ = Task.Run(async () =>
    {
        try { await new WireConnection(new SocketClient(socket), sink).RunAsync(); }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException) { }
        finally { socket.Dispose(); }
    });
}
