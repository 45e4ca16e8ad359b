// A ZeroPg server and its "app" database, and an API that uses it through Aspire.Npgsql: no Docker.
// `dotnet run` opens Aspire's dashboard (its URL is printed); the data is kept in a folder (WithDataVolume).
var builder = DistributedApplication.CreateBuilder(args);

var pg = builder.AddZeroPg("pg");
if (builder.Configuration["ZeroPg:DataDirectory"] is { Length: > 0 } dataDirectory)
    pg.WithDataDirectory(dataDirectory);
else
    pg.WithDataVolume();
var app = pg.AddDatabase("app");

builder.AddProject<Projects.Api>("api")
    .WithReference(app)
    .WaitFor(app);

builder.Build().Run();
