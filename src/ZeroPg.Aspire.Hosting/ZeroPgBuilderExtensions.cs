using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Aspire.Hosting;

/// <summary>
/// builder.AddZeroPg("pg").AddDatabase("app"): Aspire's AddPostgres without Docker. The options mean what
/// Aspire's Postgres ones mean where both have them (data directory or volume, password, init files).
/// </summary>
public static class ZeroPgBuilderExtensions
{
    /// <summary>
    /// A ZeroPg server the AppHost runs itself: in memory unless <see cref="WithDataDirectory"/> or
    /// <see cref="WithDataVolume"/>; its port is a free one unless <paramref name="port"/> names one.
    /// Healthy once it answers a query; its databases exist by then.
    /// </summary>
    public static IResourceBuilder<ZeroPgServerResource> AddZeroPg(this IDistributedApplicationBuilder builder, [ResourceName] string name,
        IResourceBuilder<ParameterResource>? userName = null, IResourceBuilder<ParameterResource>? password = null, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var resource = new ZeroPgServerResource(name, userName?.Resource, passwordParameter);
        resource.Options.Port = port ?? 0;

        builder.Services.TryAddSingleton<ZeroPgServers>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ZeroPgServers>(services => services.GetRequiredService<ZeroPgServers>()));
        var healthCheck = $"{name}_zeropg_check";
        builder.Services.AddHealthChecks().Add(new(healthCheck, services => new ZeroPgHealthCheck(resource, database: null, services), failureStatus: null, tags: null));

        return builder.AddResource(resource)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "ZeroPg",
                State = KnownResourceStates.NotStarted,
                Properties = [new(CustomResourceKnownProperties.Source, "ZeroPg (PGlite, Postgres 18)")],
            })
            .WithIconName("DatabaseStack")
            .WithHealthCheck(healthCheck)
            .ExcludeFromManifest()
            .OnInitializeResource((server, e, cancellationToken) =>
            {
                e.Services.GetRequiredService<ZeroPgServers>().Start(server, e, cancellationToken);
                return Task.CompletedTask;
            });
    }

    /// <summary>A database made with CREATE DATABASE through the server (when missing) before the server and it report healthy.</summary>
    public static IResourceBuilder<ZeroPgDatabaseResource> AddDatabase(this IResourceBuilder<ZeroPgServerResource> builder, [ResourceName] string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        databaseName ??= name;
        builder.Resource.AddDatabase(name, databaseName);
        var database = new ZeroPgDatabaseResource(name, databaseName, builder.Resource);
        var healthCheck = $"{name}_zeropg_database_check";
        builder.ApplicationBuilder.Services.AddHealthChecks().Add(new(healthCheck, services => new ZeroPgHealthCheck(builder.Resource, databaseName, services), failureStatus: null, tags: null));
        return builder.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "ZeroPgDatabase",
                State = KnownResourceStates.NotStarted,
                Properties = [new("zeropg.database", databaseName)],
            })
            .WithIconName("Database")
            .WithParentRelationship(builder.Resource)
            .WithHealthCheck(healthCheck)
            .ExcludeFromManifest();
    }

    /// <summary>Keeps the data in <paramref name="source"/> (created when missing; relative to the AppHost's folder), so it survives a restart of the AppHost.</summary>
    public static IResourceBuilder<ZeroPgServerResource> WithDataDirectory(this IResourceBuilder<ZeroPgServerResource> builder, string source, bool isReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (isReadOnly)
            throw new NotSupportedException("ZeroPg opens its data directory read-write (PGlite writes on every start); copy the directory instead.");
        builder.Resource.Options.DataDirectory = Path.GetFullPath(source, builder.ApplicationBuilder.AppHostDirectory);
        return builder;
    }

    /// <summary>
    /// Keeps the data in a named folder of the machine (ZeroPg has no containers, so a "volume" is a folder under
    /// $XDG_DATA_HOME/zeropg/volumes, or the local application data folder): the default name is Aspire's for
    /// AddPostgres().WithDataVolume() (the AppHost's name, a hash of its path, the resource's name).
    /// </summary>
    public static IResourceBuilder<ZeroPgServerResource> WithDataVolume(this IResourceBuilder<ZeroPgServerResource> builder, string? name = null, bool isReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var volume = name ?? VolumeNameGenerator.Generate(builder, "data");
        if (volume.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || volume is "." or "..")
            throw new ArgumentException($"\"{volume}\" is not a folder name", nameof(name));
        return builder.WithDataDirectory(Path.Combine(VolumesRoot(), volume), isReadOnly);
    }

    /// <summary>
    /// Runs the *.sql files of a folder (or one file) once, when the server's data is new, as the Postgres image's
    /// /docker-entrypoint-initdb.d: in the postgres database, or with a user other than postgres in the database of its name.
    /// </summary>
    public static IResourceBuilder<ZeroPgServerResource> WithInitFiles(this IResourceBuilder<ZeroPgServerResource> builder, string source)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var path = Path.GetFullPath(source, builder.ApplicationBuilder.AppHostDirectory);
        if (File.Exists(path))
        {
            // ZeroPg runs folders: a file gets a folder of its own, kept for the AppHost's life.
            var folder = Directory.CreateTempSubdirectory("zeropg-init-").FullName;
            File.Copy(path, Path.Combine(folder, Path.GetFileName(path)));
            path = folder;
        }
        else if (!Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"Init files: {path} does not exist");
        }
        builder.Resource.Options.InitFolders.Add(path);
        return builder;
    }

    /// <summary>PGlite extensions to preload (pgcrypto, citext, vector, ..., or "auto": those the migrations use).</summary>
    public static IResourceBuilder<ZeroPgServerResource> WithExtensions(this IResourceBuilder<ZeroPgServerResource> builder, params string[] extensions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var extension in extensions)
            builder.Resource.Options.Extensions.Add(extension);
        return builder;
    }

    /// <summary>
    /// Applies a migrations folder (Prisma, drizzle-kit, Flyway-style or ordered .sql files, as `zeropg serve --migrations`)
    /// to the postgres database at every start (what is applied already is skipped), before the server reports healthy.
    /// </summary>
    public static IResourceBuilder<ZeroPgServerResource> WithMigrations(this IResourceBuilder<ZeroPgServerResource> builder, string folder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var path = Path.GetFullPath(folder, builder.ApplicationBuilder.AppHostDirectory);
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"Migrations: {path} does not exist");
        builder.Resource.Options.MigrationFolders.Add(path);
        return builder;
    }

    /// <summary>ZeroPg's live dashboard (and /healthz, /metrics) on this port; it is on by default on a free port, shown as the resource's "dashboard" URL.</summary>
    public static IResourceBuilder<ZeroPgServerResource> WithDashboard(this IResourceBuilder<ZeroPgServerResource> builder, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Options.HttpPort = port ?? 0;
        return builder;
    }

    /// <summary>No dashboard and no HTTP listener.</summary>
    public static IResourceBuilder<ZeroPgServerResource> WithoutDashboard(this IResourceBuilder<ZeroPgServerResource> builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Options.HttpPort = null;
        return builder;
    }

    /// <summary>Changes any other server option (durability, timeouts, the Node.js to use, ...).</summary>
    public static IResourceBuilder<ZeroPgServerResource> WithOptions(this IResourceBuilder<ZeroPgServerResource> builder, Action<ZeroPg.ZeroPgOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        configure(builder.Resource.Options);
        return builder;
    }

    private static string VolumesRoot()
    {
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg
            ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        return Path.Combine(data, "zeropg", "volumes");
    }
}
