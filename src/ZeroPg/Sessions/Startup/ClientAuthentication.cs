using System.Buffers;
using System.IO.Pipelines;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Security;

namespace ZeroPg.Sessions;

/// <summary>
/// Authenticates a client before it is greeted, as Postgres's ClientAuthentication does with one pg_hba line
/// for all: the role must exist and may log in (28000 otherwise, even with trust), and with SCRAM-SHA-256 the
/// client proves it knows the password whose verifier the engine keeps in pg_authid (28P01 otherwise; an
/// unknown role fails the same way, so probing does not reveal which roles exist). The role is read from the
/// engine once per connection (<paramref name="lookUpRole"/>, which runs between other clients' batches);
/// the exchange itself is between ZeroPg and the client and does not hold the engine.
/// Thread: the session's, before its message loop.
/// </summary>
internal sealed class ClientAuthentication(PipeReader input, PipeWriter output, SessionServices services, byte[]? channelBinding)
{
    /// <summary>The login role once authenticated; throws a FATAL <see cref="PgErrorException"/> otherwise.</summary>
    public async Task<LoginRole> RunAsync(string user, Func<string, Task<LoginRole?>> lookUpRole, CancellationToken connectionClosed)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(connectionClosed);
        deadline.CancelAfter(services.Options.AuthenticationTimeout);
        var role = await lookUpRole(user);
        if (services.Options.Security.Effective == AuthenticationMethod.ScramSha256)
        {
            var secret = role is { PasswordExpired: false } ? ScramSecret.Parse(role.Password) : null;
            await ExchangeAsync(new ScramExchange(user, secret ?? ScramSecret.Mock(user, services.MockNonce), channelBinding), deadline.Token);
        }
        if (role is null)
            throw new PgErrorException(PgError.Fatal(SqlState.InvalidAuthorizationSpecification, $"role \"{user}\" does not exist",
                "Connect as an existing role (the default is postgres), or create it: CREATE ROLE name LOGIN."));
        if (!role.CanLogin)
            throw new PgErrorException(PgError.Fatal(SqlState.InvalidAuthorizationSpecification, $"role \"{user}\" is not permitted to log in",
                $"Allow it with ALTER ROLE \"{user}\" LOGIN."));
        return role;
    }

    private async Task ExchangeAsync(ScramExchange scram, CancellationToken deadline)
    {
        AuthenticationSasl.Write(output, ScramExchange.Mechanisms(channelBinding is not null));
        await output.FlushAsync(deadline);
        var initial = SaslInitialResponse.Parse(await ReadPasswordMessageAsync(deadline));
        AuthenticationSaslContinue.Write(output, scram.Begin(initial.Mechanism, initial.Data));
        await output.FlushAsync(deadline);
        var final = scram.Finish(await ReadPasswordMessageAsync(deadline));
        AuthenticationSaslFinal.Write(output, final);
    }

    /// <summary>The body of the next message, which must be a PasswordMessage ('p'); a client that leaves instead ends the connection quietly.</summary>
    private async Task<byte[]> ReadPasswordMessageAsync(CancellationToken deadline)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline);
            }
            catch (OperationCanceledException)
            {
                // Postgres's authentication_timeout covers the whole exchange: the connection just closes.
                throw new ConnectionClosedDuringAuthentication();
            }
            var buffer = result.Buffer;
            if (FrontendFramer.TryReadMessage(ref buffer, FrontendFramer.SmallMessageLimit, out var code, out var message))
            {
                var data = SaslResponse.ReadData(message);
                input.AdvanceTo(buffer.Start);
                if (code != FrontendCode.PasswordMessage)
                    throw ProtocolViolation.Create($"expected SASL response, got message type {(byte)code}");
                return data;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                throw new ConnectionClosedDuringAuthentication(); // libpq closes when it has no password to give
        }
    }

    /// <summary>The client left (or stayed silent past authentication_timeout) before authenticating: nothing to answer.</summary>
    public sealed class ConnectionClosedDuringAuthentication() : IOException("the client closed the connection during authentication");
}
