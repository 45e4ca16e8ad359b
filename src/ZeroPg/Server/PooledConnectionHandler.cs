using Microsoft.AspNetCore.Connections;
using ZeroPg.Engine.Pooled;
using ZeroPg.Hosting;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Security;
using ZeroPg.Sessions;

namespace ZeroPg.Server;

/// <summary>
/// <c>--engine postgres --pool N</c> and <c>--upstream</c>: ZeroPg answers the startup itself (TLS, its own authentication with
/// the roles and SCRAM verifiers of the server behind, a greeting with the settings a backend of the client's database and
/// role reported, and a BackendKeyData of ZeroPg's), then runs the client as a <see cref="PooledClient"/> over
/// <see cref="BackendPool"/>. A CancelRequest with ZeroPg's key reaches the backend running that client's statement.
/// </summary>
internal sealed class PooledConnectionHandler(SessionServices services, BackendPool pool, PooledClients clients, LoginRoleCache loginRoles, ZeroPgMetrics metrics) : ConnectionHandler
{
    /// <summary>Startup parameters a backend need not be told: the key itself, and what every backend of the pool already has.</summary>
    private static readonly HashSet<string> Understood = new(StringComparer.OrdinalIgnoreCase) { "user", "database", "application_name", "fallback_application_name" };

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        metrics.RecordConnectionAccepted();
        var start = await SessionStartup.ReadAsync(connection, services, CancelAsync);
        if (start is null)
            return;
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var closed = connection.ConnectionClosed;
        int? id = null;
        try
        {
            var parameters = start.Packet.Parameters;
            var user = parameters.GetValueOrDefault("user") ?? throw new PgErrorException(PgError.Fatal(SqlState.InvalidAuthorizationSpecification,
                "no PostgreSQL user name specified in startup packet"));
            var key = new PoolKey(parameters.GetValueOrDefault("database") is { Length: > 0 } database ? database : user, user);
            if (parameters.ContainsKey("replication") && parameters["replication"] is not ("false" or "off" or "0" or "no"))
                throw new PgErrorException(PgError.Fatal(SqlState.FeatureNotSupported, "replication connections are not pooled",
                    "Connect a replication client to the PostgreSQL server directly, not through ZeroPg's pool."));
            if (pool.Target.OnlyUser is { } only && only != user)
                throw new PgErrorException(PgError.Fatal(SqlState.InvalidAuthorizationSpecification, $"the pool logs in to its upstream only as \"{only}\", not \"{user}\"",
                    $"Connect as \"{only}\", the user of --upstream."));
            if (start.Packet.ProtocolMinor > 0 || parameters.Keys.Any(k => k.StartsWith("_pq_.", StringComparison.Ordinal)))
                NegotiateProtocolVersion.Write(output, 0, parameters.Keys.Where(k => k.StartsWith("_pq_.", StringComparison.Ordinal)).ToList());
            var channelBinding = start.Tls is null ? null : services.Tls.ChannelBindingHash;
            await new ClientAuthentication(input, output, services, channelBinding).RunAsync(user, name => LookUpRoleAsync(key.Database, name, closed), closed);
            var greeting = pool.Greeting(key) ?? await LogInFirstAsync(key, closed);
            var startupSettings = StartupSettings(parameters).ToList();
            var applicationName = parameters.GetValueOrDefault("application_name") ?? parameters.GetValueOrDefault("fallback_application_name") ?? "";
            var client = new PooledClient(pool, loginRoles, key, input, output, services.Options.MaxMessageSize)
            {
                AutoPrepare = pool.AutoPrepareFor(key) is { } shared ? new AutoPreparedRuns(shared, metrics) : null,
                Settings = new PooledSettings(startupSettings) { StartupUnchecked = startupSettings.Count > 0 },
                ApplicationName = applicationName,
                StartupApplicationName = applicationName,
            };
            var (processId, secretKey) = clients.Add(client);
            client.ProcessId = processId;
            id = processId;
            AuthenticationOk.Write(output);
            foreach (var (name, value) in greeting)
            {
                if (name != "application_name")
                    ParameterStatus.Write(output, name, value);
            }
            ParameterStatus.Write(output, "application_name", client.ApplicationName);
            BackendKeyData.Write(output, processId, secretKey);
            ReadyForQuery.Write(output, TransactionStatus.Idle);
            await output.FlushAsync(closed);
            await client.RunAsync(closed);
        }
        catch (PgErrorException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(output, error.Error with { Severity = "FATAL" });
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error) || error is ClientAuthentication.ConnectionClosedDuringAuthentication or OperationCanceledException)
        {
        }
        catch (Exception error) when (error is IOException or System.Net.Sockets.SocketException)
        {
            await ConnectionErrors.TryWriteFatalAsync(output, PgError.Fatal(SqlState.ConnectionFailure, $"ZeroPg's pool could not reach {pool.Target.Describe()}: {error.Message}"));
        }
        finally
        {
            if (id is { } processId)
                clients.Remove(processId);
            if (start.Tls is not null)
                await start.Tls.DisposeAsync();
        }
    }

    /// <summary>
    /// The role as pg_authid of the server behind has it, read on a backend of the client's database as the pool's login role,
    /// or as a login read it a moment ago (<see cref="LoginRoleCache"/>).
    /// </summary>
    private async Task<LoginRole?> LookUpRoleAsync(string database, string user, CancellationToken closed)
    {
        if (loginRoles.TryGet(database, user, out var known))
            return known;
        var generation = loginRoles.Generation;
        var role = await ReadRoleAsync(database, user, closed);
        loginRoles.Keep(database, user, role, generation);
        return role;
    }

    private async Task<LoginRole?> ReadRoleAsync(string database, string user, CancellationToken closed)
    {
        var backend = await pool.AcquireAsync(new PoolKey(database, pool.Target.OnlyUser ?? services.Options.Security.User), closed);
        try
        {
            // A client's settings and role the backend holds (a search_path, a SET ROLE) are reset first: the lookup is ZeroPg's.
            var reset = backend.Settings == "" ? "" : PooledBackend.ResetSql + ";";
            if (reset.Length > 0)
            {
                backend.Settings = "";
                backend.ApplicationName = PooledBackend.LoginApplicationName;
            }
            var rows = await backend.QueryAsync($"{reset}{LoginRole.AllSql} WHERE rolname = '{user.Replace("'", "''")}'", closed);
            pool.Return(backend);
            return rows.Count == 0 ? null : LoginRole.FromRow(rows[0]);
        }
        catch (PgErrorException)
        {
            backend.Settings = null; // the failed query's implicit transaction undid its RESET ALL
            pool.Return(backend);
            throw;
        }
        catch
        {
            pool.Discard(backend);
            throw;
        }
    }

    private async Task<List<(string Name, string Value)>> LogInFirstAsync(PoolKey key, CancellationToken closed)
    {
        var backend = await pool.AcquireAsync(key, closed);
        pool.Return(backend);
        return backend.Parameters;
    }

    /// <summary>The settings of the startup parameters a client gave beyond its key (options -c too).</summary>
    private static IEnumerable<(string Name, string Value)> StartupSettings(IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            if (Understood.Contains(name) || name.StartsWith("_pq_.", StringComparison.Ordinal) || name == "replication")
                continue;
            if (name == "client_encoding" && value.Replace("-", "").Equals("utf8", StringComparison.OrdinalIgnoreCase))
                continue;
            if (name == "options")
            {
                foreach (var setting in CommandLineSettings(value))
                    yield return setting;
                continue;
            }
            yield return (name, value);
        }
    }

    /// <summary>The settings of a startup "options" value: -c name=value and --name=value, as Postgres reads them.</summary>
    private static IEnumerable<(string, string)> CommandLineSettings(string options)
    {
        var words = options.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            string? setting = word == "-c" && i + 1 < words.Length ? words[++i] : word.StartsWith("-c", StringComparison.Ordinal) ? word[2..]
                : word.StartsWith("--", StringComparison.Ordinal) ? word[2..] : null;
            if (setting?.IndexOf('=') is > 0 and var equals)
                yield return (setting[..equals].Replace('-', '_'), setting[(equals + 1)..]);
        }
    }

    private async Task CancelAsync(byte[] packet)
    {
        var startup = Protocol.Frontend.StartupPacket.Parse(packet);
        if (clients.Find(startup.CancelProcessId, startup.CancelSecretKey) is { } client)
            await client.CancelAsync();
    }
}
