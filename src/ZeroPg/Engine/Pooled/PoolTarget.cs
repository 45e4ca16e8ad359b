using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// Where pooled backends connect: the Unix socket of the cluster ZeroPg started (<see cref="Native.NativeCluster"/>, which trusts
/// that socket in pooled mode, so a backend logs in as its client's role), or an upstream over TCP with TLS and the upstream's
/// own credentials (<see cref="UpstreamUrl"/>, which serves only that role). Also sends a CancelRequest to a backend.
/// Immutable; shared by every connection.
/// </summary>
internal sealed class PoolTarget
{
    private readonly string? _socketFile;
    private readonly UpstreamUrl? _upstream;

    private PoolTarget(string? socketFile, UpstreamUrl? upstream)
    {
        _socketFile = socketFile;
        _upstream = upstream;
    }

    /// <summary>The pool's own event loop its plain backend sockets wait on (<see cref="PoolEventLoop"/>), or null: .NET's sockets.</summary>
    public Platform.Linux.EpollSockets? Loop { get; init; }

    public static PoolTarget Cluster(string socketFile, Platform.Linux.EpollSockets? loop = null) => new(socketFile, null) { Loop = loop };

    public static PoolTarget Upstream(UpstreamUrl url, Platform.Linux.EpollSockets? loop = null) => new(null, url) { Loop = loop };

    public UpstreamUrl? UpstreamUrl => _upstream;

    /// <summary>The one role backends may log in as (the upstream's user), or null: any role (the cluster's socket trusts ZeroPg).</summary>
    public string? OnlyUser => _upstream?.User;

    /// <summary>The password a backend of <paramref name="user"/> answers SCRAM with (the upstream's), or null (trust).</summary>
    public string? PasswordFor(string user) => _upstream is { } url && url.User == user ? url.Password : null;

    public string Describe() => _upstream?.ToString() ?? $"unix:{_socketFile}";

    /// <summary>A connected stream to the server (after TLS when the upstream's sslmode asks for it), ready for a StartupMessage.</summary>
    public async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_upstream is null)
            return await BackendSockets.ConnectAsync(new UnixDomainSocketEndPoint(_socketFile!), Loop, cancellationToken);
        if (_upstream.Tls == UpstreamTls.Disable)
            return await BackendSockets.ConnectAsync(new DnsEndPoint(_upstream.Host, _upstream.Port), Loop, cancellationToken);
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(_upstream.Host, _upstream.Port, cancellationToken);
            var stream = tcp.GetStream();
            var request = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(request, 8);
            BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), 80877103); // SSLRequest
            await stream.WriteAsync(request, cancellationToken);
            var answer = new byte[1];
            if (await stream.ReadAsync(answer, cancellationToken) != 1)
                throw new IOException($"the upstream {_upstream} closed the connection after SSLRequest");
            if (answer[0] != (byte)'S')
            {
                if (_upstream.Tls == UpstreamTls.Prefer)
                    return stream;
                throw new AuthenticationException($"the upstream {_upstream} does not offer TLS, and sslmode asks for it");
            }
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false, ValidateCertificate);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = _upstream.Host }, cancellationToken);
            return ssl;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>libpq's sslmode: require encrypts without checking who answers; verify-ca checks the chain; verify-full the name too.</summary>
    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        var url = _upstream!;
        if (url.Tls is UpstreamTls.Prefer or UpstreamTls.Require)
            return true;
        if (certificate is null)
            return false;
        if (url.RootCertificate is { } rootFile && chain is not null)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificateFromFile(rootFile));
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!custom.Build(new X509Certificate2(certificate)))
                return false;
            return url.Tls == UpstreamTls.VerifyCa || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
        }
        errors &= url.Tls == UpstreamTls.VerifyCa ? ~SslPolicyErrors.RemoteCertificateNameMismatch : ~SslPolicyErrors.None;
        return errors == SslPolicyErrors.None;
    }

    /// <summary>A CancelRequest for the backend <paramref name="processId"/>: no answer, whatever becomes of it (as in Postgres).</summary>
    public async Task CancelAsync(int processId, int secretKey)
    {
        var packet = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(packet, 16);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), 80877102);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), processId);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), secretKey);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await using var stream = await ConnectAsync(timeout.Token);
            await stream.WriteAsync(packet, timeout.Token);
            await stream.FlushAsync(timeout.Token);
            // Postgres closes the connection once the cancel is delivered: wait for that, so the caller's next read sees its effect.
            _ = await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, timeout.Token);
        }
        catch (Exception error) when (error is IOException or SocketException or OperationCanceledException or AuthenticationException)
        {
        }
    }
}
