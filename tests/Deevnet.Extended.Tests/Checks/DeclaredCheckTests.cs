using System;
using System.Net;
using System.Net.Sockets;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Doubles;
using Xunit;
using static Deevnet.Extended.Tests.Checks.CheckTestKit;
using static Deevnet.Extended.Tests.Checks.TestTier;

namespace Deevnet.Extended.Tests.Checks
{
    /// <summary>Each declared check kind against a healthy and a broken local server.</summary>
    public class DeclaredCheckTests : IClassFixture<DeclaredCheckTests.Certs>
    {
        public sealed class Certs : IDisposable
        {
            public readonly TestCertificates Ca = new TestCertificates();
            public void Dispose() => Ca.Dispose();
        }

        private readonly TestCertificates _certs;
        public DeclaredCheckTests(Certs certs) => _certs = certs.Ca;

        private static SiteTier OneService(params CheckSpec[] checks) =>
            new TestTier().Host("h1", "10.9.0.11", vmid: 211).Service("svc", "h1", checks: checks).Build();

        [Fact]
        public void TcpPassesOnAnOpenPortAndFailsOnAClosedOne()
        {
            var open = new TcpListener(IPAddress.Loopback, 0);
            open.Start();
            var openPort = ((IPEndPoint)open.LocalEndpoint).Port;
            using var closed = new RefusedPort();
            var closedPort = closed.Port;
            try
            {
                var results = Run(new TestTier().Host("h1", "10.9.0.11", vmid: 211)
                    .Service("up", "h1", checks: new[] { Check("tcp", $"127.0.0.1:{openPort}") })
                    .Service("down", "h1", checks: new[] { Check("tcp", $"127.0.0.1:{closedPort}") }).Build());
                AssertStatus(results.One("tcp", "up"), CheckStatus.Passed, "accepts connections");
                AssertStatus(results.One("tcp", "down"), CheckStatus.Failed, "connection refused");
            }
            finally
            {
                open.Stop();
            }
        }

        [Theory]
        [InlineData(200, "status: ok", "200", "ok", CheckStatus.Passed, "body contains 'ok'")]
        [InlineData(503, "status: down", "200", null, CheckStatus.Failed, "HTTP 503 Test, expected 200")]
        [InlineData(200, "status: degraded", "200", "healthy", CheckStatus.Failed, "does not contain 'healthy'")]
        [InlineData(404, "nothing here", "404", null, CheckStatus.Passed, "HTTP 404")]
        public void HttpJudgesStatusAndBody(int serverStatus, string serverBody, string expectStatus, string? expectBody, CheckStatus status, string detail)
        {
            using var server = new TinyHttpServer(serverStatus, serverBody);
            var options = expectBody == null ? new[] { ("status", expectStatus) } : new[] { ("status", expectStatus), ("body", expectBody) };
            var results = Run(OneService(Check("http", $"http://127.0.0.1:{server.Port}/health", null, options)));
            AssertStatus(results.One("http"), status, detail);
        }

        [Fact]
        public void HttpReadsAChunkedBodyFromAServerThatKeepsTheConnectionOpen()
        {
            using var server = new TinyHttpServer(200, "the quick brown fox is healthy", chunked: true);
            var results = Run(OneService(Check("http", $"http://localhost:{server.Port}/", TimeSpan.FromSeconds(3), ("body", "fox is healthy"))));
            AssertStatus(results.One("http"), CheckStatus.Passed, "fox is healthy");
        }

        [Fact]
        public void AServerThatAcceptsButNeverAnswersFailsAtTheTimeout()
        {
            using var server = new TinyHttpServer(200, "", silent: true);
            var results = Run(OneService(Check("http", $"http://127.0.0.1:{server.Port}/", TimeSpan.FromMilliseconds(400))));
            var r = results.One("http");
            AssertStatus(r, CheckStatus.Failed, "No answer within 0.4 s");
            Assert.True(r.Duration < TimeSpan.FromSeconds(3), $"took {r.Duration}");
        }

        [Fact]
        public void HttpsWithATrustedCertificateForTheNamePasses()
        {
            using var server = new TinyHttpServer(200, "ok", _certs.Leaf("good", "localhost", 90));
            var results = Run(OneService(Check("https", $"https://localhost:{server.Port}/", null, ("caFile", _certs.CaFile))));
            AssertStatus(results.One("https"), CheckStatus.Passed, "certificate for localhost valid until");
        }

        [Fact]
        public void HttpsWithACertificateExpiringWithinCertDaysWarns()
        {
            using var server = new TinyHttpServer(200, "ok", _certs.Leaf("soon", "localhost", 5));
            var results = Run(OneService(Check("https", $"https://localhost:{server.Port}/", null, ("caFile", _certs.CaFile), ("certDays", "14"))));
            AssertStatus(results.One("https"), CheckStatus.Warning, "expires within 14 days");
        }

        [Fact]
        public void HttpsWithAnExpiredCertificateFails()
        {
            using var server = new TinyHttpServer(200, "ok", _certs.Leaf("expired", "localhost", -1));
            var results = Run(OneService(Check("https", $"https://localhost:{server.Port}/", null, ("caFile", _certs.CaFile))));
            AssertStatus(results.One("https"), CheckStatus.Failed, "expired on");
        }

        [Fact]
        public void HttpsWithACertificateForAnotherNameFails()
        {
            using var server = new TinyHttpServer(200, "ok", _certs.Leaf("wrongname", "grafana.elsewhere.test", 90));
            var results = Run(OneService(Check("https", $"https://localhost:{server.Port}/", null, ("caFile", _certs.CaFile))));
            AssertStatus(results.One("https"), CheckStatus.Failed, "does not match the name localhost", "grafana.elsewhere.test");
        }

        [Fact]
        public void HttpsWithACertificateFromAnUntrustedIssuerFails()
        {
            using var server = new TinyHttpServer(200, "ok", _certs.Leaf("untrusted", "localhost", 90, ca: "other-ca"));
            var results = Run(OneService(Check("https", $"https://localhost:{server.Port}/", null, ("caFile", _certs.CaFile))));
            AssertStatus(results.One("https"), CheckStatus.Failed, "not trusted", "Other-CA");
        }

        [Fact]
        public void DnsPassesOnTheExpectedAnswerAndFailsOnAWrongOne()
        {
            using var dns = new TestDnsServer("--host-record=h1.t.test,10.9.0.11", "--host-record=wrong.t.test,10.9.0.99");
            var tier = new TestTier().DnsServer(dns.EndPoint).Host("h1", "10.9.0.11", vmid: 211)
                .Service("good", "h1", checks: new[] { Check("dns", "h1") })
                .Service("bad", "h1", checks: new[] { Check("dns", "wrong.t.test", null, ("expect", "10.9.0.11")) })
                .Service("missing", "h1", checks: new[] { Check("dns", "nothere") }).Build();
            var results = Run(tier);
            AssertStatus(results.One("dns", "good"), CheckStatus.Passed, "h1.t.test → 10.9.0.11");
            AssertStatus(results.One("dns", "bad"), CheckStatus.Failed, "resolves to 10.9.0.99", "expected 10.9.0.11");
            AssertStatus(results.One("dns", "missing"), CheckStatus.Failed, "nothere.t.test has no A record");
        }

        [Fact]
        public void ADnsServerThatDoesNotAnswerFailsWithinTheTimeout()
        {
            using var silent = new SilentUdpServer();
            var tier = new TestTier().DnsServer(silent.EndPoint).Host("h1", "10.9.0.11", vmid: 211)
                .Service("svc", "h1", checks: new[] { Check("dns", "h1", TimeSpan.FromSeconds(1)) }).Build();
            var r = Run(tier).One("dns");
            Assert.Equal(CheckStatus.Failed, r.Status);
            Assert.True(r.Duration < TimeSpan.FromSeconds(4), $"took {r.Duration}: {r.Detail}");
        }

        [Fact]
        public void CommandPassesOnExitZeroAndFailsWithItsOutputOtherwise()
        {
            var backends = new CheckBackends { Transports = Backend<ICheckTransports>.Available(new CheckTransportPool((v, t) => System.Threading.Tasks.Task.FromResult<IHostTransport>(new LocalTransport()), default)) };
            var tier = new TestTier().Host("h1", "10.9.0.11", vmid: 211, via: Via.Local)
                .Service("ok", "h1", checks: new[] { Check("command", "echo active") })
                .Service("broken", "h1", checks: new[] { Check("command", "echo 'grafana is inactive' >&2; exit 3") }).Build();
            var results = Run(tier, backends);
            AssertStatus(results.One("command", "ok"), CheckStatus.Passed, "active");
            AssertStatus(results.One("command", "broken"), CheckStatus.Failed, "exit 3", "grafana is inactive");
        }

        [Fact]
        public void ChecksWhoseBackEndIsMissingAreSkippedWithTheReasonNeverPassed()
        {
            var tier = new TestTier().Host("h1", "10.9.0.11", vmid: 211)
                .Service("svc", "h1", checks: new[] { Check("command", "true"), Check("ssh", "22") }).Build();
            var results = Run(tier);
            AssertStatus(results.One("command"), CheckStatus.Skipped, "not available");
            AssertStatus(results.One("ssh"), CheckStatus.Skipped, "not available");
            AssertStatus(results.One("dns-forward"), CheckStatus.Skipped, "no dns.server");
        }
    }
}
