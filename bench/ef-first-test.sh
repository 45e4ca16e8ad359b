#!/usr/bin/env bash
# Time from `dotnet test` to the first green EF Core test with migrations, in a project that uses only the packages
# (as a user's would), and the package sizes. Packs ZeroPg.Server, ZeroPg.Testing and zeropg into a local feed,
# writes a small EF Core test project (a migration; a snapshot restored before each test), restores it, then runs
# `dotnet test` twice: cold (build included) and warm (--no-build). Each output line is stamped with the ms since
# `dotnet test` started; the first "Passed" line is the figure. Usage: bench/ef-first-test.sh (needs network or a
# NuGet cache holding EF Core, xunit and the test SDK). Progress on stderr, figures on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d /tmp/zeropg-ef-first-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
version="0.0.0-bench$(date +%Y%m%d%H%M%S)"
pv() { sed -nE "s/.*PackageVersion Include=\"$1\" Version=\"([^\"]+)\".*/\1/p" Directory.Packages.props; }
for project in src/ZeroPg/ZeroPg.csproj src/ZeroPg.Testing/ZeroPg.Testing.csproj src/ZeroPg.Cli/ZeroPg.Cli.csproj; do
  echo "packing $project ..." >&2
  dotnet pack "$project" -c Release -o "$work/feed" -p:Version="$version" >&2
done
for package in "$work"/feed/*.nupkg; do
  echo "package $(basename "$package"): $(du -b "$package" | awk '{ printf($1 < 1048576 ? "%.0f KB" : "%.1f MB", $1 < 1048576 ? $1 / 1024 : $1 / 1048576) }')"
done
mkdir -p "$work/app"
cat >"$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="local" value="$work/feed" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources></configuration>
XML
cat >"$work/app/app.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><IsPackable>false</IsPackable></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="ZeroPg.Testing" Version="$version" />
    <PackageReference Include="Npgsql.EntityFrameworkCore.PostgreSQL" Version="$(pv Npgsql.EntityFrameworkCore.PostgreSQL)" />
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="$(pv Microsoft.NET.Test.Sdk)" />
    <PackageReference Include="xunit" Version="$(pv xunit)" />
    <PackageReference Include="xunit.runner.visualstudio" Version="$(pv xunit.runner.visualstudio)" />
  </ItemGroup>
</Project>
XML
cat >"$work/app/ShopTests.cs" <<'CS'
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using ZeroPg.Testing;
using Xunit;

public sealed class Order { public int Id { get; set; } public string Item { get; set; } = ""; }

public sealed class Shop(DbContextOptions<Shop> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();
    public static Shop Open(string cs) => new(new DbContextOptionsBuilder<Shop>().UseNpgsql(cs)
        .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning)).Options);
}

[DbContext(typeof(Shop))]
[Migration("20260101000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder b) => b.CreateTable("Orders",
        t => new { Id = t.Column<int>(nullable: false).Annotation("Npgsql:ValueGenerationStrategy", Npgsql.EntityFrameworkCore.PostgreSQL.Metadata.NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                   Item = t.Column<string>(nullable: false) },
        constraints: t => t.PrimaryKey("PK_Orders", x => x.Id));
}

public sealed class Db : ZeroPgFixture
{
    protected override async Task OnStartedAsync()
    {
        await using (var shop = Shop.Open(ConnectionString))
            await shop.Database.MigrateAsync();
        await SnapshotAsync();
    }
}

public sealed class ShopTests(Db db) : IClassFixture<Db>, IAsyncLifetime
{
    public Task InitializeAsync() => db.RestoreAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Saves_orders(int count)
    {
        await using var shop = Shop.Open(db.ConnectionString);
        for (var i = 0; i < count; i++)
            shop.Orders.Add(new Order { Item = $"order {i}" });
        await shop.SaveChangesAsync();
        Assert.Equal(count, await shop.Orders.CountAsync());
    }
}
CS
echo "restoring the test project ..." >&2
(cd "$work/app" && dotnet restore >&2)
stamp() { local start=$1; while IFS= read -r line; do echo "$(( $(date +%s%3N) - start )) ms  $line"; done; }
for run in cold warm; do
  flags=(); [[ $run == warm ]] && flags=(--no-build)
  start=$(date +%s%3N)
  (cd "$work/app" && dotnet test --no-restore "${flags[@]}" --logger "console;verbosity=normal" 2>&1) | stamp "$start" >"$work/$run.log"
  first=$(grep -m1 ' Passed ' "$work/$run.log" | cut -d' ' -f1)
  total=$(tail -1 "$work/$run.log" | cut -d' ' -f1)
  echo "$run dotnet test: first green EF Core test after $first ms, run over after $total ms ($(grep -c ' Passed ' "$work/$run.log") passed; load $(cut -d' ' -f1-3 /proc/loadavg))"
  grep -E ' Passed | Failed ' "$work/$run.log" | sed 's/^/    /'
done
