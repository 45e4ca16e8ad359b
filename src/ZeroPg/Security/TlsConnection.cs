using System.IO.Pipelines;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;

namespace ZeroPg.Security;

/// <summary>
/// Turns a plain connection into a TLS one in place: SslStream over the connection's pipes, and the
/// connection's transport replaced by pipes over the SslStream, so everything after the handshake (startup,
/// session) reads and writes plain messages as before. The SslStream lives as long as the connection.
/// </summary>
internal static class TlsConnection
{
    public static async Task<SslStream> UpgradeAsync(ConnectionContext connection, ServerTls tls, bool direct, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new DuplexPipeStream(connection.Transport), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsServerAsync(tls.AuthenticationOptions(direct), cancellationToken);
        if (direct && ssl.NegotiatedApplicationProtocol != ServerTls.Alpn)
        {
            await ssl.DisposeAsync();
            throw new AuthenticationFailedException("direct TLS connection without ALPN \"postgresql\"");
        }
        connection.Transport = new Transport(
            PipeReader.Create(ssl, new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(ssl, new StreamPipeWriterOptions(leaveOpen: true)));
        return ssl;
    }

    private sealed record Transport(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    public sealed class AuthenticationFailedException(string message) : Exception(message);
}
