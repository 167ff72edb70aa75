using System;
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
using System.Text.Json.Nodes;
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
        public bool IsSuccess => Status / 100 == 2;
    }

    /// <summary>
    /// The one HTTP client of every REST back end (Proxmox, OPNsense, PowerDNS), built from the tier section:
    /// certificate trust by <see cref="TlsTrust"/>; a credential over plain http only to a loopback address (which may be
    /// one on the server of <c>via</c>, reached through an SSH tunnel); no redirects, no proxy, no cookies; answers
    /// capped at <see cref="MaxResponseBytes"/>; one error mapping: HTTP status, the upstream error text (trimmed, control
    /// characters removed, secrets blanked), method and path — never the credential.
    /// </summary>
    public sealed class RestClient : IDisposable
    {
        public const int MaxResponseBytes = 16 * 1024 * 1024;
        private readonly HttpClient _http;
        private readonly TlsTrust _trust;
        private readonly string _endpoint;
        private readonly string[] _secrets;
        private readonly RestErrorIds _ids;
        private readonly TimeSpan _timeout;
        private readonly Uri _uri;
        private readonly IHostTransport? _tunnel;
        private Task<int>? _tunnelPort;

        /// <summary>
        /// A client for the section's <c>endpoint</c> and TLS keys. <paramref name="credential"/> (a header) is never shown;
        /// <paramref name="secrets"/> are blanked wherever an answer echoes them; with <paramref name="tunnel"/> (the transport of
        /// <c>via</c>) the endpoint is an address on that server, reached through one SSH forwarded port; <paramref name="log"/>
        /// gets the TLS warnings; <paramref name="ids"/> defaults to the generic HTTP family.
        /// </summary>
        public RestClient(BackendSpec spec, string kind, (string Header, string Value) credential, string[] secrets, IOperationLog log,
            TimeSpan timeout, IHostTransport? tunnel = null, RestErrorIds? ids = null)
        {
            _endpoint = spec.Require("endpoint").TrimEnd('/');
            if (!Uri.TryCreate(_endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
                throw new DeevException("EndpointInvalid", DeevErrorKind.InvalidData, $"{spec.Section}.endpoint '{_endpoint}' is not an http(s) URL.", spec.Section);
            if (CleartextProblem(uri) is { } problem)
                throw new DeevException("EndpointInsecure", DeevErrorKind.SecurityError, $"{spec.Section}.endpoint {problem}", spec.Section);
            _uri = uri;
            _secrets = secrets.Append(credential.Value).Where(s => s.Length > 0).ToArray();
            _ids = ids ?? new RestErrorIds();
            _timeout = timeout;
            _tunnel = tunnel;
            Server = $"{kind} {_endpoint}" + (tunnel != null ? $" (through SSH to {tunnel.Via})" : "");
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
            _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.TryAddWithoutValidation(credential.Header, credential.Value);
        }

        /// <summary>How messages name the server: kind and endpoint (and the SSH hop, if any).</summary>
        public string Server { get; }

        /// <summary>Why a credential must not go to <paramref name="uri"/> (plain http to anything but 127/8, ::1, localhost), or null.</summary>
        public static string? CleartextProblem(Uri uri) =>
            uri.Scheme != Uri.UriSchemeHttp || uri.IsLoopback ? null
                : $"'{uri.GetLeftPart(UriPartial.Authority)}' is plain http to a non-loopback address: the credential would travel in clear text. " +
                  "Use https, or an http://127.0.0.1 endpoint reached through an SSH tunnel (via).";

        /// <summary>Sends one request to <paramref name="path"/> (below the endpoint) and returns the answer, whatever its status.</summary>
        public async Task<RestResponse> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, _endpoint + path) { Content = content };
            var where = $"{method} {request.RequestUri!.AbsolutePath}";
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(_timeout);
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token).ConfigureAwait(false);
                return new RestResponse((int)response.StatusCode, await ReadCappedAsync(response.Content, where, limit.Token).ConfigureAwait(false));
            }
            catch (HttpRequestException ex) when (Find<DeevException>(ex) is { } sshError)
            {
                // The SSH hop failed (host key, authentication, connection): its own error says why.
                throw new DeevException(sshError.ErrorId, sshError.Kind, $"{Server}: {where}: {sshError.Message}", Server, ex) { RecommendedAction = sshError.RecommendedAction };
            }
            catch (HttpRequestException ex) when (_trust.Refusal != null || Find<AuthenticationException>(ex) != null)
            {
                throw new DeevException("TlsVerificationFailed", DeevErrorKind.SecurityError,
                    $"{Server}: refused to talk to {_uri.Authority}: {_trust.Refusal ?? Find<AuthenticationException>(ex)!.Message}. Nothing was sent.", Server, ex)
                { RecommendedAction = "Check tlsFingerprint (the server's SHA-256 certificate fingerprint) or caFile in the tier file." };
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is IOException || ex is SocketException)
            {
                throw new DeevException(_ids.Unreachable, DeevErrorKind.ConnectionError, $"{Server}: {where} failed: {Clean(ex.GetBaseException().Message)}", Server, ex)
                { RecommendedAction = "Check that the API runs and that endpoint (and via) in the tier file point at it." };
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new DeevException(_ids.Unreachable, DeevErrorKind.OperationTimeout, $"{Server}: {where} did not answer within {_timeout.TotalSeconds:0} s.", Server, ex);
            }
        }

        /// <summary>Sends one request and returns the body of a 2xx answer; 401/403 is the authentication error, any other status the failed-request error.</summary>
        public async Task<string> CallAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
        {
            var answer = await SendAsync(method, path, content, cancellationToken).ConfigureAwait(false);
            if (answer.IsSuccess) return answer.Body;
            var text = $"{method} {new Uri(_endpoint + path).AbsolutePath} answered HTTP {answer.Status}" + (Clean(answer.Body) is { Length: > 0 } detail ? ": " + detail : ".");
            if (answer.Status == 401 || answer.Status == 403)
                throw new DeevException(_ids.AuthenticationFailed, DeevErrorKind.PermissionDenied, $"{Server} refused the credential: {text}", Server)
                { RecommendedAction = "Check the key or token the tier file names and its privileges on the server." };
            throw new DeevException(_ids.Failed, DeevErrorKind.InvalidOperation, $"{Server}: {text}", Server);
        }

        /// <summary>
        /// The upstream error text of an answer, fit for a message: the members APIs put it in (<c>errors</c> or
        /// <c>validations</c> per field, <c>error</c>, <c>message</c>, <c>errorMessage</c>) when the body is JSON, else the body;
        /// control characters and runs of white space made one space, what else could repaint or reorder a terminal
        /// (bidi overrides, separators) escaped as <see cref="SafeText"/> does, at most 500 characters, every secret blanked.
        /// </summary>
        public string Clean(string text)
        {
            var sb = new StringBuilder();
            foreach (var c in Describe(text))
            {
                if (!char.IsControl(c) && !char.IsWhiteSpace(c)) sb.Append(c);
                else if (sb.Length > 0 && sb[sb.Length - 1] != ' ') sb.Append(' ');
            }
            var result = SafeText.Printable(sb.ToString().Trim());
            foreach (var secret in _secrets) result = result.Replace(secret, "***", StringComparison.Ordinal);
            return result.Length <= 500 ? result : result.Substring(0, 500) + "…";
        }

        public void Dispose() => _http.Dispose();

        private static string Describe(string body)
        {
            try
            {
                var doc = Json.Parse(body);
                if ((Json.Member(doc, "errors") ?? Json.Member(doc, "validations")) is JsonObject fields && fields.Count > 0)
                    return string.Join("; ", fields.Select(kv => $"{kv.Key}: {Json.TextOf(kv.Value)}"));
                return new[] { "error", "message", "errorMessage" }.Select(k => Json.Str(doc, k)).FirstOrDefault(m => !string.IsNullOrEmpty(m)) ?? body;
            }
            catch (JsonException)
            {
                return body; // not JSON: the body itself is the upstream's word
            }
        }

        private async Task<string> ReadCappedAsync(HttpContent content, string where, CancellationToken cancellationToken)
        {
            using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > MaxResponseBytes || content.Headers.ContentLength > MaxResponseBytes)
                    throw new DeevException("HttpResponseTooLarge", DeevErrorKind.InvalidData,
                        $"{Server}: the answer to {where} is larger than {MaxResponseBytes >> 20} MiB; it was not read.", Server);
                buffer.Write(chunk, 0, n);
            }
            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }

        /// <summary>Every connection goes to the local end of one SSH forwarded port, opened on first use (again after a failure).</summary>
        private async ValueTask<Stream> ConnectThroughTunnelAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            var forwarder = _tunnel as IPortForwarding
                ?? throw new DeevException("TunnelUnavailable", DeevErrorKind.InvalidOperation, $"{Server}: {_tunnel!.Via} cannot forward a port; via must be ssh://.", Server);
            Task<int> port;
            lock (forwarder)
            {
                if (_tunnelPort == null || _tunnelPort.IsFaulted || _tunnelPort.IsCanceled)
                    _tunnelPort = forwarder.ForwardAsync(_uri.Host.Trim('[', ']'), _uri.Port, CancellationToken.None);
                port = _tunnelPort;
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, await port.WaitAsync(cancellationToken).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                lock (forwarder) if (_tunnelPort == port) _tunnelPort = null; // a reconnected SSH session needs a new forward
                throw;
            }
        }

        /// <summary>The first exception of type <typeparamref name="T"/> in the chain of inner exceptions, or null.</summary>
        internal static T? Find<T>(Exception ex) where T : Exception
        {
            for (Exception? e = ex; e != null; e = e.InnerException) if (e is T t) return t;
            return null;
        }
    }
}
