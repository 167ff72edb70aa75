using System;
using System.Globalization;
using System.IO;
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
    /// A small HTTP/1.1 GET of its own rather than HttpClient: it connects to the address the tier's DNS gives (HttpClient
    /// on netstandard2.0 cannot be told where to connect), keeps SNI and Host as the URL says, sees the server
    /// certificate and every reason it is not trusted, and stops at the token without leaking pooled connections.
    /// </summary>
    public static class HttpProbe
    {
        private const int MaxResponseBytes = 1 << 20;

        public static async Task<CheckOutcome> CheckAsync(CheckResolver resolver, HttpExpectation expect, CancellationToken cancellationToken, Func<DateTime>? utcNow = null)
        {
            var url = expect.Url;
            var addresses = await resolver.ResolveAsync(url.Host, cancellationToken).ConfigureAwait(false);
            var socket = await TcpProbe.ConnectAsync(addresses, url.Port, cancellationToken).ConfigureAwait(false);
            using Stream network = new NetworkStream(socket, ownsSocket: true);
            using var stop = cancellationToken.Register(() => network.Dispose());
            var stream = network;
            TlsVerdict? tls = null;
            try
            {
                if (url.Scheme == Uri.UriSchemeHttps)
                {
                    var verdict = new TlsVerdict(url.IdnHost, expect.TrustedRoots);
                    var ssl = new SslStream(network, false, verdict.Record);
                    stream = ssl;
                    try
                    {
                        await ssl.AuthenticateAsClientAsync(url.IdnHost, null, SslProtocols.None, false).ConfigureAwait(false);
                    }
                    catch (AuthenticationException ex)
                    {
                        return CheckOutcome.Fail($"TLS handshake with {url.Authority} failed: {ex.Message}");
                    }
                    tls = verdict;
                    var problem = verdict.Problem(utcNow?.Invoke() ?? DateTime.UtcNow);
                    // An untrusted, expired or wrong-name certificate ends the check before any request is sent.
                    if (problem != null) return CheckOutcome.Fail(problem);
                }
                var request = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUser-Agent: Deevnet.Extended-check\r\nAccept: */*\r\nConnection: close\r\n\r\n";
                var bytes = Encoding.ASCII.GetBytes(request);
                await stream.WriteAsync(bytes, 0, bytes.Length, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                var response = await HttpResponseReader.ReadAsync(stream, MaxResponseBytes, cancellationToken).ConfigureAwait(false);
                return Judge(expect, response, tls, utcNow?.Invoke() ?? DateTime.UtcNow);
            }
            catch (Exception ex) when ((ex is IOException || ex is ObjectDisposedException) && !cancellationToken.IsCancellationRequested)
            {
                return CheckOutcome.Fail($"{url.Authority} closed the connection: {ex.Message}");
            }
            finally
            {
                if (!ReferenceEquals(stream, network)) stream.Dispose();
            }
        }

        private static CheckOutcome Judge(HttpExpectation expect, HttpResponse response, TlsVerdict? tls, DateTime now)
        {
            if (response.Status != expect.Status)
            {
                return CheckOutcome.Fail($"HTTP {response.Status} {response.Reason}, expected {expect.Status}; body starts: {Snippet(response.Body)}");
            }
            if (expect.Body != null && response.Body.IndexOf(expect.Body, StringComparison.Ordinal) < 0)
            {
                return CheckOutcome.Fail($"HTTP {response.Status}, but the body does not contain '{expect.Body}'; body starts: {Snippet(response.Body)}");
            }
            var text = $"HTTP {response.Status}" + (expect.Body != null ? $", body contains '{expect.Body}'" : "");
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
