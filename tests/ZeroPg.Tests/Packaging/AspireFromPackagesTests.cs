using System.Diagnostics;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// Part of <see cref="PackagesTests"/> (it packs once): an Aspire AppHost as a user writes it from the packages,
/// AddZeroPg("pg").AddDatabase("app") referenced by a project, and a DistributedApplicationTestingBuilder test that
/// queries "app" through the connection string the project receives. The time `dotnet test` takes after restore
/// is printed (the issue's bar is 60 s; figures are measured, not asserted).
/// </summary>
internal static class AspireFromPackagesTests
{
    public static async Task RunAsync(string repo, string work, string config, string version,
        Func<string, string, string> packageVersion, Func<string, string, string, Task<string>> runHidden, Func<string, string[], string, Task> run)
    {
        var root = Path.Combine(work, "aspire");
        string V(string id) => packageVersion(repo, id);
        // What Aspire 13.6.5 needs named to restore without NU1603 here.
        var aspirePins = $"""
                <PackageReference Include="Polly.Core" Version="{V("Polly.Core")}" />
                <PackageReference Include="Polly.Extensions" Version="{V("Polly.Extensions")}" />
                <PackageReference Include="Nerdbank.MessagePack" Version="{V("Nerdbank.MessagePack")}" />
            """;
        await Write(Path.Combine(root, "Api", "Api.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
            </Project>
            """);
        await Write(Path.Combine(root, "Api", "Program.cs"), """
            var app = WebApplication.CreateBuilder(args).Build();
            app.MapGet("/", (IConfiguration configuration) => configuration.GetConnectionString("app") is null ? "no database" : "has a database");
            app.Run();
            """);
        await Write(Path.Combine(root, "AppHost", "AppHost.csproj"), $"""
            <Project Sdk="Aspire.AppHost.Sdk/13.6.4">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <NoWarn>$(NoWarn);ASPIRE010</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="../Api/Api.csproj" />
                <PackageReference Include="ZeroPg.Aspire.Hosting" Version="{version}" />
                <PackageReference Include="Aspire.Hosting.AppHost" Version="{V("Aspire.Hosting.AppHost")}" />
            {aspirePins}
              </ItemGroup>
            </Project>
            """);
        await Write(Path.Combine(root, "AppHost", "AppHost.cs"), """
            var builder = DistributedApplication.CreateBuilder(args);
            var app = builder.AddZeroPg("pg").AddDatabase("app");
            builder.AddProject<Projects.Api>("api").WithReference(app).WaitFor(app);
            builder.Build().Run();
            """);
        await Write(Path.Combine(root, "Tests", "Tests.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <IsPackable>false</IsPackable>
                <NoWarn>$(NoWarn);ASPIRE010;CS0618</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="../AppHost/AppHost.csproj" />
                <PackageReference Include="Aspire.Hosting.Testing" Version="{V("Aspire.Hosting.Testing")}" />
                <PackageReference Include="Npgsql" Version="{V("Npgsql")}" />
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{V("Microsoft.NET.Test.Sdk")}" />
                <PackageReference Include="xunit" Version="{V("xunit")}" />
                <PackageReference Include="xunit.runner.visualstudio" Version="{V("xunit.runner.visualstudio")}" />
            {aspirePins}
              </ItemGroup>
            </Project>
            """);
        await Write(Path.Combine(root, "Tests", "AppHostTests.cs"), """
            using Aspire.Hosting;
            using Aspire.Hosting.ApplicationModel;
            using Aspire.Hosting.Testing;
            using Microsoft.Extensions.DependencyInjection;
            using Npgsql;
            using Xunit;

            public sealed class AppHostTests
            {
                [Fact]
                public async Task The_api_gets_a_connection_string_to_app_that_answers()
                {
                    var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>();
                    await using var app = await builder.BuildAsync();
                    await app.StartAsync();
                    await app.ResourceNotifications.WaitForResourceHealthyAsync("app").WaitAsync(TimeSpan.FromSeconds(50));
                    var api = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<IResourceWithEnvironment>().Single(r => r.Name == "api");
                    var environment = await api.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
                    await using var connection = new NpgsqlConnection(environment["ConnectionStrings__app"]);
                    await connection.OpenAsync();
                    await using var command = new NpgsqlCommand("select current_database()", connection);
                    Assert.Equal("app", await command.ExecuteScalarAsync());
                }
            }
            """);
        File.Copy(config, Path.Combine(root, "nuget.config"));
        await run("dotnet", ["restore", "Tests/Tests.csproj"], root);
        var clock = Stopwatch.StartNew();
        var output = await runHidden(repo, "dotnet test Tests/Tests.csproj --no-restore 2>&1", root);
        var elapsed = clock.Elapsed;
        var duration = System.Text.RegularExpressions.Regex.Match(output, @"Duration: ([^-]+) -").Groups[1].Value.Trim();
        Console.WriteLine($"Aspire AppHost test from the packages: dotnet test took {elapsed.TotalSeconds:0.0} s (build included; the test run itself {duration})");
        Assert.Contains("Passed!", output);
        Assert.Contains("Passed:     1", output);
    }

    private static async Task Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, text);
    }
}
