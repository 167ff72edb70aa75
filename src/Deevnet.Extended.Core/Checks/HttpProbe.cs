using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>What an <c>http</c>/<c>https</c> check expects.</summary>
    public sealed class HttpExpectation
    {
        public HttpExpectation(Uri url, int status = 200, string? body = null, int certDays = 14, X509Certificate2Collection? trustedRoots = null)
        {
            Url = url;
            Status = status;
            Body = body;
            CertDays = certDays;
            TrustedRoots = trustedRoots;
        }

        public Uri Url { get; }
        public int Status { get; }

        /// <summary>A substring the body must contain (ordinal), or null.</summary>
        public string? Body { get; }

        /// <summary>A certificate expiring within this many days is a Warning.</summary>
        public int CertDays { get; }

        /// <summary>Extra CA certificates trusted besides the system store (a lab or site CA), or null.</summary>
        public X509Certificate2Collection? TrustedRoots { get; }
    }

    /// <summary>
    /// One HTTP GET through HttpClient over a SocketsHttpHandler whose ConnectCallback connects to the address the
    /// tier's DNS gives, while SNI and Host stay as the URL says. The certificate callback records what the handshake
    /// saw (<see cref="TlsVerdict"/>) and refuses it when it is not acceptable, so no request is sent to an untrusted,
    /// expired or wrong-name server. No redirects, no proxy, no pooling beyond the check, a capped body.
    /// </summary>
    public static class HttpProbe
    {
        private const int MaxResponseBytes = 1 << 20;

        public static async Task<CheckOutcome> CheckAsync(CheckResolver resolver, HttpExpectation expect, CancellationToken cancellationToken, Func<DateTime>? utcNow = null)
        {
            var url = expect.Url;
            var addresses = await resolver.ResolveAsync(url.Host, cancellationToken).ConfigureAwait(false);
            DateTime Now() => utcNow?.Invoke() ?? DateTime.UtcNow;
            var verdict = url.Scheme == Uri.UriSchemeHttps ? new TlsVerdict(url.IdnHost, expect.TrustedRoots) : null;
            using var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectCallback = async (_, token) =>
                    new NetworkStream(await TcpProbe.ConnectAsync(addresses, url.Port, token).ConfigureAwait(false), ownsSocket: true),
            };
            if (verdict != null)
            {
                handler.SslOptions = new SslClientAuthenticationOptions
                {
                    TargetHost = url.IdnHost,
                    EnabledSslProtocols = SslProtocols.None,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    // An untrusted, expired or wrong-name certificate ends the check before any request is sent.
                    RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                        verdict.Record(sender, certificate, chain, errors) && verdict.Problem(Now()) == null,
                };
            }
            using var client = new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Get, url) { Version = HttpVersion.Version11 };
            request.Headers.TryAddWithoutValidation("User-Agent", "Deevnet.Extended-check");
            request.Headers.TryAddWithoutValidation("Accept", "*/*");
            request.Headers.ConnectionClose = true;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                var body = await ReadCappedAsync(response.Content, cancellationToken).ConfigureAwait(false);
                return Judge(expect, (int)response.StatusCode, response.ReasonPhrase ?? "", body, verdict, Now());
            }
            catch (HttpRequestException ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (ex.InnerException is CheckFailedException failed) throw failed;
                if (verdict != null && Http.RestClient.Find<AuthenticationException>(ex) is { } tlsError)
                {
                    var problem = verdict.Certificate != null ? verdict.Problem(Now()) : null;
                    return CheckOutcome.Fail(problem ?? $"TLS handshake with {url.Authority} failed: {tlsError.Message}");
                }
                return CheckOutcome.Fail($"{url.Authority} closed the connection: {ex.GetBaseException().Message}");
            }
            catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
            {
                return CheckOutcome.Fail($"{url.Authority} closed the connection: {ex.Message}");
            }
        }

        private static async Task<string> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
        {
            // A check needs the status and the start of the body, not a download. Bodies are small: a pooled chunk
            // and a buffer that grows only as far as the body does (a fresh 1 MiB array per check made a thousand
            // concurrent checks spend their time zeroing memory and in full collections).
            using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                using var body = new MemoryStream();
                int n;
                while (body.Length < MaxResponseBytes &&
                    (n = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, MaxResponseBytes - body.Length)), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    body.Write(chunk, 0, n);
                }
                return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }

        private static CheckOutcome Judge(HttpExpectation expect, int status, string reason, string body, TlsVerdict? tls, DateTime now)
        {
            if (status != expect.Status)
            {
                return CheckOutcome.Fail($"HTTP {status} {reason}, expected {expect.Status}; body starts: {Snippet(body)}");
            }
            if (expect.Body != null && body.IndexOf(expect.Body, StringComparison.Ordinal) < 0)
            {
                return CheckOutcome.Fail($"HTTP {status}, but the body does not contain '{expect.Body}'; body starts: {Snippet(body)}");
            }
            var text = $"HTTP {status}" + (expect.Body != null ? $", body contains '{expect.Body}'" : "");
            if (tls?.Certificate == null) return CheckOutcome.Pass(text + ".");
            var notAfter = tls.Certificate.NotAfter.ToUniversalTime();
            var days = (notAfter - now).TotalDays;
            var certText = $"certificate for {tls.Name} valid until {notAfter:yyyy-MM-dd} ({Math.Floor(days).ToString(CultureInfo.InvariantCulture)} days)";
            if (days < expect.CertDays)
            {
                return CheckOutcome.Warn($"{text}; {certText}: expires within {expect.CertDays} days.");
            }
            return CheckOutcome.Pass($"{text}; {certText}.");
        }

        /// <summary>The start of a body on one line, for details.</summary>
        public static string Snippet(string text, int max = 120)
        {
            var one = text.Replace("\r", " ").Replace("\n", " ").Trim();
            return one.Length == 0 ? "(empty)" : one.Length <= max ? one : one.Substring(0, max) + "…";
        }
    }
}
