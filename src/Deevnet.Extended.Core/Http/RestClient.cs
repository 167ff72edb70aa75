using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Http
{
    /// <summary>The error ids a <see cref="RestClient"/> reports; a back end may name them in its own area's family.</summary>
    public sealed record RestErrorIds(string Unreachable = "ConnectionFailed", string AuthenticationFailed = "AuthenticationFailed", string Failed = "HttpRequestFailed");

    /// <summary>One answer: status and body text (already capped).</summary>
    public readonly record struct RestResponse(int Status, string Body)
    {
        public bool IsSuccess => Status >= 200 && Status < 300;
    }

    /// <summary>
    /// The one HTTP client of every REST back end (Proxmox, OPNsense, PowerDNS), built from the tier section:
    /// certificate trust by <see cref="TlsTrust"/>; a credential over plain http only to a loopback address (which may be
    /// one on the server of <c>via</c>, reached through an SSH tunnel); no redirects, no proxy, no cookies; answers
    /// capped at <see cref="MaxResponseBytes"/>; one error mapping: HTTP status, the upstream error text (trimmed, control
    /// characters removed, the credential blanked), method and path — never the credential.
    /// </summary>
    public sealed class RestClient : IDisposable
    {
        public const int MaxResponseBytes = 16 * 1024 * 1024;

        private readonly HttpClient _http;
        private readonly TlsTrust _trust;
        private readonly Uri _endpoint;
        private readonly string[] _secrets;
        private readonly RestErrorIds _ids;
        private readonly IHostTransport? _tunnelHost;
        private readonly object _tunnelGate = new object();
        private Task<int>? _tunnelPort;

        /// <param name="spec">The tier section: <c>endpoint</c> and the TLS keys.</param>
        /// <param name="kind">How messages name the server (<c>powerdns</c>, <c>opnsense</c>, <c>hypervisors.pve1</c>).</param>
        /// <param name="credential">The header that authenticates (name, value); never logged or shown.</param>
        /// <param name="secrets">The secret parts of the credential, blanked wherever an upstream answer echoes them.</param>
        /// <param name="tunnel">
        /// The transport of the section's <c>via</c> when the endpoint is to be reached through it: every connection goes
        /// through one SSH forwarded port to the endpoint's host and port as the server of <c>via</c> sees them.
        /// </param>
        /// <param name="log">Receives the TLS warnings (verification off, a skip overruled by a pin or CA file).</param>
        /// <param name="timeout">Limit of one call, answer included.</param>
        /// <param name="ids">The error ids to report (default: the generic HTTP family).</param>
        public RestClient(BackendSpec spec, string kind, KeyValuePair<string, string> credential, IEnumerable<string> secrets, IOperationLog log,
            TimeSpan timeout, IHostTransport? tunnel = null, RestErrorIds? ids = null)
        {
            var endpoint = spec.Require("endpoint").TrimEnd('/');
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new DeevException("EndpointInvalid", DeevErrorKind.InvalidData, $"{spec.Section}.endpoint '{endpoint}' is not an http(s) URL.", spec.Section);
            if (CleartextProblem(uri) is { } problem)
                throw new DeevException("EndpointInsecure", DeevErrorKind.SecurityError, $"{spec.Section}.endpoint {problem}", spec.Section);
            _endpoint = uri;
            _secrets = secrets.Append(credential.Value).Where(s => !string.IsNullOrEmpty(s)).Distinct().ToArray();
            _ids = ids ?? new RestErrorIds();
            _tunnelHost = tunnel;
            Timeout = timeout;
            Server = $"{kind} {endpoint}" + (tunnel != null ? $" (through SSH to {tunnel.Via})" : "");
            _trust = uri.Scheme == Uri.UriSchemeHttps ? TlsTrust.FromSpec(spec, log) : TlsTrust.System;
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                SslOptions = new SslClientAuthenticationOptions
                {
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) => _trust.Validate(uri.IdnHost, certificate, errors),
                },
            };
            if (tunnel != null) handler.ConnectCallback = ConnectThroughTunnelAsync;
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.TryAddWithoutValidation(credential.Key, credential.Value);
        }

        /// <summary>How messages name the server: kind and endpoint (and the SSH hop, if any).</summary>
        public string Server { get; }

        public TimeSpan Timeout { get; }

        /// <summary>The endpoint as the tier gives it, without a trailing slash.</summary>
        public Uri Endpoint => _endpoint;

        /// <summary>127.0.0.0/8, ::1 or <c>localhost</c>: the only hosts plain http may carry a credential to.</summary>
        public static bool IsLoopback(Uri uri) =>
            string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase) ||
            (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

        /// <summary>Why a credential must not go to <paramref name="uri"/> (plain http to a non-loopback host), or null.</summary>
        public static string? CleartextProblem(Uri uri) =>
            uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri)
                ? $"'{uri.GetLeftPart(UriPartial.Authority)}' is plain http to a non-loopback address: the credential would travel in clear text. " +
                  "Use https, or an http://127.0.0.1 endpoint reached through an SSH tunnel (via)."
                : null;

        /// <summary>Sends one request to <paramref name="path"/> (below the endpoint) and returns the answer, whatever its status.</summary>
        public async Task<RestResponse> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, new Uri(_endpoint.ToString().TrimEnd('/') + path)) { Content = content };
            var where = $"{method} {request.RequestUri!.AbsolutePath}";
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(Timeout);
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token).ConfigureAwait(false);
                var body = await ReadCappedAsync(response.Content, where, limit.Token).ConfigureAwait(false);
                return new RestResponse((int)response.StatusCode, body);
            }
            catch (HttpRequestException ex) when (Find<DeevException>(ex) is { } tunnelError)
            {
                // The SSH hop failed (host key, authentication, connection): its own error says why.
                throw new DeevException(tunnelError.ErrorId, tunnelError.Kind, $"{Server}: {where}: {tunnelError.Message}", Server, ex) { RecommendedAction = tunnelError.RecommendedAction };
            }
            catch (HttpRequestException ex) when (_trust.Refusal != null || Find<AuthenticationException>(ex) != null)
            {
                throw new DeevException("TlsVerificationFailed", DeevErrorKind.SecurityError,
                    $"{Server}: refused to talk to {_endpoint.Authority}: {_trust.Refusal ?? Find<AuthenticationException>(ex)!.Message}. Nothing was sent.", Server, ex)
                { RecommendedAction = "Check tlsFingerprint (the server's SHA-256 certificate fingerprint) or caFile in the tier file." };
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is IOException || ex is SocketException)
            {
                throw new DeevException(_ids.Unreachable, DeevErrorKind.ConnectionError, $"{Server}: {where} failed: {Clean(Innermost(ex).Message)}", Server, ex)
                { RecommendedAction = "Check that the API runs and that endpoint (and via) in the tier file point at it." };
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DeevException(_ids.Unreachable, DeevErrorKind.OperationTimeout, $"{Server}: {where} did not answer within {Timeout.TotalSeconds:0} s.", Server, ex);
            }
        }

        /// <summary>
        /// Sends one request and returns the body of a 2xx answer. 401/403 are the authentication error; any other
        /// status is the failed-request error with the upstream error text.
        /// </summary>
        public async Task<string> CallAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
        {
            var answer = await SendAsync(method, path, content, cancellationToken).ConfigureAwait(false);
            if (answer.IsSuccess) return answer.Body;
            if (answer.Status == 401 || answer.Status == 403)
                throw new DeevException(_ids.AuthenticationFailed, DeevErrorKind.PermissionDenied,
                    $"{Server} refused the credential: {method} {PathOf(path)} answered HTTP {answer.Status}{Detail(answer.Body)}", Server)
                { RecommendedAction = "Check the key/token named in the tier file and its privileges on the server." };
            throw Failure(method, path, answer);
        }

        /// <summary>The failed-request error for a non-2xx answer (HTTP status, method, path, upstream error text).</summary>
        public DeevException Failure(HttpMethod method, string path, RestResponse answer) =>
            new DeevException(_ids.Failed, DeevErrorKind.InvalidOperation, $"{Server}: {method} {PathOf(path)} answered HTTP {answer.Status}{Detail(answer.Body)}", Server);

        /// <summary>
        /// The upstream error text of an answer, cleaned for a message: the error members APIs use (<c>errors</c>
        /// per parameter, <c>error</c>, <c>message</c>, <c>errorMessage</c>, <c>validations</c>) when the body is JSON, else the body;
        /// control characters removed, whitespace collapsed, at most 500 characters, every secret blanked.
        /// </summary>
        public string Clean(string text)
        {
            var described = Describe(text);
            var sb = new StringBuilder(Math.Min(described.Length, 600));
            foreach (var c in described)
            {
                var keep = char.IsControl(c) || char.IsWhiteSpace(c) ? ' ' : c;
                if (keep == ' ' && (sb.Length == 0 || sb[sb.Length - 1] == ' ')) continue;
                sb.Append(keep);
            }
            var result = sb.ToString().Trim();
            foreach (var secret in _secrets) result = result.Replace(secret, "***", StringComparison.Ordinal);
            return result.Length <= 500 ? result : result.Substring(0, 500) + "…";
        }

        public void Dispose() => _http.Dispose();

        private string Detail(string body)
        {
            var text = Clean(body);
            return text.Length == 0 ? "." : ": " + text;
        }

        private string PathOf(string path) => new Uri(_endpoint.ToString().TrimEnd('/') + path).AbsolutePath;

        private static string Describe(string body)
        {
            try
            {
                var doc = Json.Parse(body);
                var errors = Json.Member(doc, "errors") ?? Json.Member(doc, "validations");
                if (errors is System.Text.Json.Nodes.JsonObject list && list.Count > 0)
                    return string.Join("; ", list.Select(kv => $"{kv.Key}: {Json.TextOf(kv.Value)}"));
                foreach (var key in new[] { "error", "message", "errorMessage" })
                    if (Json.Str(doc, key) is { Length: > 0 } message) return message;
            }
            catch (JsonException)
            {
                // not JSON: the body itself is the upstream's word
            }
            return body;
        }

        private async Task<string> ReadCappedAsync(HttpContent content, string where, CancellationToken cancellationToken)
        {
            if (content.Headers.ContentLength > MaxResponseBytes) throw TooLarge(where, content.Headers.ContentLength.Value);
            using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > MaxResponseBytes) throw TooLarge(where, null);
                buffer.Write(chunk, 0, n);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        private DeevException TooLarge(string where, long? length) =>
            new DeevException("HttpResponseTooLarge", DeevErrorKind.InvalidData,
                $"{Server}: the answer to {where} is larger than {MaxResponseBytes / (1024 * 1024)} MiB{(length is { } l ? $" ({l} bytes)" : "")}; it was not read.", Server);

        /// <summary>Every connection goes to the local end of one SSH forwarded port, opened on first use.</summary>
        private async ValueTask<Stream> ConnectThroughTunnelAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            Task<int> port;
            lock (_tunnelGate)
            {
                if (_tunnelPort == null || _tunnelPort.IsFaulted || _tunnelPort.IsCanceled)
                {
                    var forwarder = _tunnelHost as IPortForwarding
                        ?? throw new DeevException("TunnelUnavailable", DeevErrorKind.InvalidOperation, $"{Server}: {_tunnelHost!.Via} cannot forward a port; via must be ssh://.", Server);
                    _tunnelPort = forwarder.ForwardAsync(_endpoint.Host.Trim('[', ']'), _endpoint.Port, CancellationToken.None);
                }
                port = _tunnelPort;
            }
            var local = await port.WaitAsync(cancellationToken).ConfigureAwait(false);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, local), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        private static T? Find<T>(Exception ex) where T : Exception
        {
            for (Exception? e = ex; e != null; e = e.InnerException) if (e is T t) return t;
            return null;
        }

        private static Exception Innermost(Exception ex) => ex.InnerException == null ? ex : Innermost(ex.InnerException);
    }
}
