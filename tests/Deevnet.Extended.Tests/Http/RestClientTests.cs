using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Http;
using Deevnet.Extended.Core.OPNsense;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Doubles;
using Xunit;

namespace Deevnet.Extended.Tests.Http
{
    /// <summary>The one HTTP layer of the REST back ends against loopback doubles: trust, redirects, limits, errors.</summary>
    public sealed class RestClientTests
    {
        private const string Key = "k3y-0123456789";
        private static readonly CancellationToken None = CancellationToken.None;

        /// <summary>A double answering 200 {"ok":true} to everything, counting the requests that reached it.</summary>
        private sealed class Double : IDisposable
        {
            private readonly LoopbackHttpServer _server;
            private int _requests;

            public Double(X509Certificate2? certificate = null, Func<HttpResponse>? handler = null)
            {
                _server = new LoopbackHttpServer(r =>
                {
                    Interlocked.Increment(ref _requests);
                    Seen.Add(r.Header("X-API-Key"));
                    return handler?.Invoke() ?? (200, "{\"ok\":true}");
                }, certificate);
            }

            public string Endpoint => _server.Endpoint;
            public int Port => _server.Port;
            public int Requests => _requests;
            public List<string?> Seen { get; } = new List<string?>();
            public void Dispose() => _server.Dispose();
        }

        private static RestClient Client(BackendSpec spec, ListLog? log = null) =>
            new RestClient(spec, "test", ("X-API-Key", Key), new[] { Key }, log ?? new ListLog(), TimeSpan.FromSeconds(10));

        private static X509Certificate2 Usable(X509Certificate2 cert) => X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);

        /// <summary>A certificate for 127.0.0.1, self-signed or issued by <paramref name="ca"/>.</summary>
        private static X509Certificate2 Leaf(X509Certificate2? ca = null)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            if (ca == null) return Usable(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30)));
            using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), RandomNumberGenerator.GetBytes(8));
            return Usable(issued.CopyWithPrivateKey(key));
        }

        private static X509Certificate2 Ca(string name)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            return Usable(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60)));
        }

        private static string WriteCaFile(X509Certificate2 ca)
        {
            var path = Path.Combine(Path.GetTempPath(), "deev-ca-" + Guid.NewGuid().ToString("N") + ".pem");
            File.WriteAllText(path, ca.ExportCertificatePem());
            return path;
        }

        [Fact]
        public async Task A_pin_wins_over_skipTlsVerify_and_a_different_certificate_is_refused_before_any_request()
        {
            using var server = new Double(Leaf());
            var other = Leaf();
            var log = new ListLog();
            using var client = Client(RestSpec.For(server.Endpoint, ("tlsFingerprint", TlsTrust.FingerprintOf(other)), ("skipTlsVerify", "true")), log);

            var ex = await Assert.ThrowsAsync<DeevException>(() => client.CallAsync(HttpMethod.Get, "/x", null, None));

            Assert.Equal("TlsVerificationFailed", ex.ErrorId);
            Assert.Contains("fingerprint is", ex.Message);
            Assert.DoesNotContain(TlsTrust.FingerprintOf(other), ex.Message);
            Assert.Equal(0, server.Requests);
            Assert.Contains(log.Warnings, w => w.Contains("skipTlsVerify is ignored because tlsFingerprint is set"));
        }

        [Theory]
        [InlineData("colons")]
        [InlineData("plain")]
        [InlineData("base64")]
        public async Task A_matching_pin_in_any_common_notation_is_accepted(string notation)
        {
            var cert = Leaf();
            using var server = new Double(cert);
            var hash = SHA256.HashData(cert.RawData);
            var pin = notation switch
            {
                "colons" => TlsTrust.FingerprintOf(cert),
                "plain" => Convert.ToHexString(hash).ToLowerInvariant(),
                _ => "sha256/" + Convert.ToBase64String(hash),
            };
            using var client = Client(RestSpec.For(server.Endpoint, ("tlsFingerprint", pin)));
            Assert.Contains("ok", await client.CallAsync(HttpMethod.Get, "/x", null, None));
            Assert.Equal(new[] { Key }, server.Seen);
        }

        [Fact]
        public async Task SkipTlsVerify_alone_works_and_says_so_loudly()
        {
            using var server = new Double(Leaf());
            var log = new ListLog();
            using var client = Client(RestSpec.For(server.Endpoint, ("skipTlsVerify", "true")), log);
            Assert.Contains(log.Warnings, w => w.Contains("TLS VERIFICATION IS OFF"));
            Assert.Contains("ok", await client.CallAsync(HttpMethod.Get, "/x", null, None));
        }

        [Fact]
        public async Task Without_pin_or_ca_a_self_signed_certificate_is_refused()
        {
            using var server = new Double(Leaf());
            using var client = Client(RestSpec.For(server.Endpoint));
            var ex = await Assert.ThrowsAsync<DeevException>(() => client.CallAsync(HttpMethod.Get, "/x", null, None));
            Assert.Equal("TlsVerificationFailed", ex.ErrorId);
            Assert.Contains("not trusted by this system", ex.Message);
            Assert.Equal(0, server.Requests);
        }

        [Fact]
        public async Task A_ca_file_accepts_the_chain_it_issued_and_a_wrong_ca_is_refused()
        {
            var ca = Ca("deevnet-site-ca");
            using var server = new Double(Leaf(ca));
            var right = WriteCaFile(ca);
            var wrong = WriteCaFile(Ca("someone-else-ca"));
            try
            {
                using (var client = Client(RestSpec.For(server.Endpoint, ("caFile", right))))
                    Assert.Contains("ok", await client.CallAsync(HttpMethod.Get, "/x", null, None));
                Assert.Equal(1, server.Requests);

                using var refused = Client(RestSpec.For(server.Endpoint, ("caFile", wrong)));
                var ex = await Assert.ThrowsAsync<DeevException>(() => refused.CallAsync(HttpMethod.Get, "/x", null, None));
                Assert.Equal("TlsVerificationFailed", ex.ErrorId);
                Assert.True(ex.Message.Contains("deevnet-site-ca"), ex.Message); // where the chain really ends
                Assert.Equal(1, server.Requests);
            }
            finally
            {
                File.Delete(right);
                File.Delete(wrong);
            }
        }

        [Fact]
        public async Task A_redirect_is_not_followed_and_the_key_never_reaches_its_target()
        {
            using var target = new Double();
            using var server = new Double(handler: () => new HttpResponse(302, "", Location: target.Endpoint + "/steal"));
            using var client = Client(RestSpec.For(server.Endpoint));

            var ex = await Assert.ThrowsAsync<DeevException>(() => client.CallAsync(HttpMethod.Get, "/api/x", null, None));

            Assert.Equal("HttpRequestFailed", ex.ErrorId);
            Assert.Contains("GET /api/x answered HTTP 302", ex.Message);
            Assert.Equal(1, server.Requests);
            Assert.Equal(0, target.Requests);
        }

        [Fact]
        public async Task An_oversized_answer_fails_cleanly()
        {
            var big = "{\"data\":\"" + new string('x', RestClient.MaxResponseBytes) + "\"}";
            using var server = new Double(handler: () => (200, big));
            using var client = Client(RestSpec.For(server.Endpoint));
            var ex = await Assert.ThrowsAsync<DeevException>(() => client.CallAsync(HttpMethod.Get, "/big", null, None));
            Assert.Equal("HttpResponseTooLarge", ex.ErrorId);
            Assert.Contains("GET /big", ex.Message);
            Assert.Contains("16 MiB", ex.Message);
        }

        [Fact]
        public async Task An_error_answer_names_status_method_path_and_the_upstream_text_but_never_the_key()
        {
            using var server = new Double(handler: () => (422, "{\"error\":\"key " + Key + " may not\\u0007 write\\n\\n   here\"}"));
            using var client = Client(RestSpec.For(server.Endpoint));
            using var content = new StringContent("{}");
            var ex = await Assert.ThrowsAsync<DeevException>(() => client.CallAsync(HttpMethod.Post, "/api/v1/zones", content, None));
            Assert.Equal("HttpRequestFailed", ex.ErrorId);
            Assert.Contains("POST /api/v1/zones answered HTTP 422: key *** may not write here", ex.Message);
            Assert.DoesNotContain(Key, ex.ToString());
        }

        [Fact]
        public async Task Upstream_text_cannot_reorder_or_repaint_the_terminal()
        {
            using var server = new Double(handler: () => (400, "{\"message\":\"bad \\u202eevil\\u2028x \\u001b[2J\"}"));
            using var client = Client(RestSpec.For(server.Endpoint));
            var ex = await Assert.ThrowsAsync<DeevException>(() => client.CallAsync(HttpMethod.Get, "/api/x", null, None));
            Assert.Contains(@"bad \u202eevil x [2J", ex.Message);
            Assert.DoesNotContain('\u202e', ex.Message);   // a char: a culture-aware string search ignores bidi controls
        }

        [Fact]
        public async Task An_opnsense_refusal_names_its_validations_but_neither_key_nor_secret()
        {
            using var server = new Double(handler: () => (200, "{\"result\":\"failed\",\"validations\":{\"reservation.hostname\":\"s3cret-xyz is\\tnot allowed\"}}"));
            using var api = new OpnsenseClient(RestSpec.For(server.Endpoint), "key-abc", "s3cret-xyz", new ListLog(), TimeSpan.FromSeconds(10));
            var ex = await Assert.ThrowsAsync<DeevException>(() => api.AddAsync("kea/dhcpv4/add_reservation", new { reservation = new { hostname = "x" } }, None));
            Assert.Equal(OpnsenseErrors.Rejected, ex.ErrorId);
            Assert.Contains("refused kea/dhcpv4/add_reservation: reservation.hostname: *** is not allowed", ex.Message);
            Assert.DoesNotContain("s3cret-xyz", ex.ToString());
            Assert.DoesNotContain("key-abc", ex.ToString());
        }

        [Theory]
        [InlineData("http://10.20.99.1:8081")]
        [InlineData("http://pdns.example")]
        public void Plain_http_with_a_credential_to_a_non_loopback_host_is_refused(string endpoint) =>
            Assert.Equal("EndpointInsecure", Assert.Throws<DeevException>(() => Client(RestSpec.For(endpoint))).ErrorId);

        [Theory]
        [InlineData("http://127.0.0.1:8081", true)]
        [InlineData("http://127.8.9.10", true)]
        [InlineData("http://[::1]:8081", true)]
        [InlineData("http://localhost:8081", true)]
        [InlineData("http://10.231.0.2:8081", false)]
        [InlineData("https://10.231.0.2:8081", true)]
        public void Only_loopback_may_take_a_credential_over_plain_http(string endpoint, bool allowed) =>
            Assert.Equal(allowed, RestClient.CleartextProblem(new Uri(endpoint)) == null);
    }
}
