using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Checks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Tests.Doubles;
using Xunit;
using static Deevnet.Extended.Tests.Checks.CheckTestKit;

namespace Deevnet.Extended.Tests.Checks
{
    /// <summary>Checks derived from the tier, against real dnsmasq DNS and stand-in DHCP, VM and backup readers.</summary>
    public class DerivedCheckTests
    {
        [Fact]
        public void ForwardReverseAndCnameRecordsAreComparedWithTheTier()
        {
            using var dns = new TestDnsServer(
                "--host-record=h1.t.test,10.9.0.11", "--cname=grafana.t.test,h1.t.test",
                "--host-record=h2.t.test,10.9.0.99", "--host-record=other.t.test,10.9.0.12",
                "--host-record=prom.t.test,10.9.0.12");
            var tier = new TestTier().DnsServer(dns.EndPoint)
                .Host("h1", "10.9.0.11", vmid: 211).Service("grafana", "h1", names: new[] { "grafana" })
                .Host("h2", "10.9.0.12", vmid: 212).Service("prom", "h2", names: new[] { "prom", "alerts" }).Build();
            var results = Run(tier);
            AssertStatus(results.Single(r => r.Host == "h1" && r.Check == "dns-forward"), CheckStatus.Passed);
            AssertStatus(results.Single(r => r.Host == "h1" && r.Check == "dns-reverse"), CheckStatus.Passed, "10.9.0.11 → h1.t.test");
            AssertStatus(results.Single(r => r.Check == "dns-cname" && r.Target == "grafana.t.test"), CheckStatus.Passed, "grafana.t.test → h1.t.test → 10.9.0.11");
            AssertStatus(results.Single(r => r.Host == "h2" && r.Check == "dns-forward"), CheckStatus.Failed, "resolves to 10.9.0.99", "expected 10.9.0.12");
            AssertStatus(results.Single(r => r.Host == "h2" && r.Check == "dns-reverse"), CheckStatus.Failed, "points back to other.t.test");
            AssertStatus(results.Single(r => r.Check == "dns-cname" && r.Target == "prom.t.test"), CheckStatus.Failed, "is not a CNAME");
            AssertStatus(results.Single(r => r.Check == "dns-cname" && r.Target == "alerts.t.test"), CheckStatus.Failed, "does not resolve");
        }

        private sealed class Reservations : IReservationSource
        {
            private readonly ReservationView[] _list;
            public int Reads;
            public Reservations(params ReservationView[] list) => _list = list;
            public string Description => "test reservations";
            public Task<IReadOnlyList<ReservationView>> ReadAsync(CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref Reads);
                return Task.FromResult<IReadOnlyList<ReservationView>>(_list);
            }
        }

        [Fact]
        public void ReservationsMustExistAndMatchOnReservationSegmentsOnly()
        {
            var source = new Reservations(
                new ReservationView("02:de:77:00:00:d3", IPAddress.Parse("10.9.0.11"), "h1"),
                new ReservationView("02:de:77:00:00:d4", IPAddress.Parse("10.9.0.50"), "h2"));
            var tier = new TestTier().DhcpServer()
                .Host("h1", "10.9.0.11", vmid: 211).Host("h2", "10.9.0.12", vmid: 212).Host("h3", "10.9.0.13", vmid: 213)
                .Host("s1", "10.9.1.5", segment: "platform", vmid: 214).Build();
            var results = Run(tier, new CheckBackends { Reservations = Backend<IReservationSource>.Available(source) });
            AssertStatus(results.Single(r => r.Host == "h1" && r.Check == "dhcp-reservation"), CheckStatus.Passed, "02:de:77:00:00:d3 → 10.9.0.11");
            AssertStatus(results.Single(r => r.Host == "h2" && r.Check == "dhcp-reservation"), CheckStatus.Failed, "reserved 10.9.0.50", "expected 10.9.0.12");
            AssertStatus(results.Single(r => r.Host == "h3" && r.Check == "dhcp-reservation"), CheckStatus.Failed, "No reservation for 02:de:77:00:00:d5");
            Assert.DoesNotContain(results, r => r.Host == "s1" && r.Check == "dhcp-reservation");
            Assert.Equal(1, source.Reads);
        }

        [Fact]
        public void ReservationChecksAreSkippedWithoutADhcpSectionOrBackEnd()
        {
            var noSection = Run(new TestTier().Host("h1", "10.9.0.11", vmid: 211).Build());
            AssertStatus(noSection.One("dhcp-reservation"), CheckStatus.Skipped, "no dhcp section");
            var noBackend = Run(new TestTier().DhcpServer().Host("h1", "10.9.0.11", vmid: 211).Build());
            AssertStatus(noBackend.One("dhcp-reservation"), CheckStatus.Skipped, "not available");
        }

        private sealed class Identities : IIdentitySource
        {
            private readonly Dictionary<string, IdentityView> _map;
            public Identities(Dictionary<string, IdentityView> map) => _map = map;
            public IdentityView? Find(string hostName) => _map.TryGetValue(hostName, out var v) ? v : null;
        }

        [Fact]
        public void IdentityMacMustBeTheFunctionOfTheVmid()
        {
            var ids = new Identities(new Dictionary<string, IdentityView>
            {
                ["good"] = new IdentityView(207, "02:de:77:00:00:cf", "identity file"),
                ["bad"] = new IdentityView(208, "02:de:77:00:00:ff", "identity file"),
            });
            var tier = new TestTier().Host("good", "10.9.0.11").Host("bad", "10.9.0.12").Host("none", "10.9.0.13").Build();
            var results = Run(tier, new CheckBackends { Identity = Backend<IIdentitySource>.Available(ids) });
            AssertStatus(results.Single(r => r.Host == "good" && r.Check == "identity"), CheckStatus.Passed, "02:de:77:00:00:cf = f(VMID 207)");
            AssertStatus(results.Single(r => r.Host == "bad" && r.Check == "identity"), CheckStatus.Failed, "is not f(VMID 208) = 02:de:77:00:00:d0");
            AssertStatus(results.Single(r => r.Host == "none" && r.Check == "identity"), CheckStatus.Failed, "no identity yet");
        }

        private sealed class Vms : IVmInventory
        {
            public Task<VmView?> FindAsync(Hypervisor hypervisor, MgmtHost host, CancellationToken cancellationToken) => Task.FromResult(host.Name switch
            {
                "up" => new VmView("up", 211, new[] { "02:DE:77:00:00:D3" }, true, "running"),
                "noboot" => new VmView("noboot", 212, new[] { "02:de:77:00:00:d4" }, false, "running"),
                "wrongmac" => new VmView("wrongmac", 213, new[] { "52:54:00:12:34:56" }, true, "running"),
                _ => (VmView?)null,
            });
        }

        [Fact]
        public void VmMustHaveTheIdentityMacAndStartOnBoot()
        {
            var t = new TestTier();
            t.Hypervisors.Add(new Hypervisor("hv1", "libvirt", Deevnet.Extended.Core.Transport.Via.Local, new Dictionary<string, string> { ["template"] = "tpl" }, 1, 1));
            var tier = t.Host("up", "10.9.0.11", vmid: 211, hypervisor: "hv1").Host("noboot", "10.9.0.12", vmid: 212, hypervisor: "hv1")
                .Host("wrongmac", "10.9.0.13", vmid: 213, hypervisor: "hv1").Host("gone", "10.9.0.14", vmid: 214, hypervisor: "hv1")
                .Host("bare", "10.9.0.15", vmid: 215).Build();
            var results = Run(tier, new CheckBackends { Vms = Backend<IVmInventory>.Available(new Vms()) });
            AssertStatus(results.Single(r => r.Host == "up" && r.Check == "vm"), CheckStatus.Passed, "starts on boot");
            AssertStatus(results.Single(r => r.Host == "noboot" && r.Check == "vm"), CheckStatus.Failed, "does not start on boot");
            AssertStatus(results.Single(r => r.Host == "wrongmac" && r.Check == "vm"), CheckStatus.Failed, "its MAC is 52:54:00:12:34:56, expected 02:de:77:00:00:d5");
            AssertStatus(results.Single(r => r.Host == "gone" && r.Check == "vm"), CheckStatus.Failed, "no VM for gone");
            Assert.DoesNotContain(results, r => r.Host == "bare" && r.Check == "vm");
        }

        [Fact]
        public void AHostOnATenantSegmentOrOverlappingSegmentsFailsIsolation()
        {
            var t = new TestTier();
            t.Segments.Add(TestTier.Seg("overlap", "10.9.1.0/25", SegmentAddressing.Static));
            var tier = t.Host("ok", "10.9.0.11", vmid: 211).Host("tenant", "10.9.50.5", segment: "tenant-a", vmid: 212)
                .Host("double", "10.9.1.5", segment: "platform", vmid: 213).Host("outside", "10.9.7.5", vmid: 214).Build();
            var results = Run(tier);
            AssertStatus(results.Single(r => r.Host == "ok" && r.Check == "isolation-segment"), CheckStatus.Passed, "not a tenant segment");
            AssertStatus(results.Single(r => r.Host == "tenant" && r.Check == "isolation-segment"), CheckStatus.Failed, "tenant-a is a tenant segment");
            AssertStatus(results.Single(r => r.Host == "double" && r.Check == "isolation-segment"), CheckStatus.Failed, "also lies in segment overlap");
            AssertStatus(results.Single(r => r.Host == "outside" && r.Check == "isolation-segment"), CheckStatus.Failed, "is not in management");
        }

        [Fact]
        public void ManagementPortsReachableFromTheVantageFailIsolation()
        {
            var open = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            open.Start();
            var openPort = ((IPEndPoint)open.LocalEndpoint).Port;
            using var closed = new RefusedPort();
            var closedPort = closed.Port;
            try
            {
                var local = Deevnet.Extended.Core.Transport.Via.Local;
                var backends = new CheckBackends { Transports = Backend<ICheckTransports>.Available(new CheckTransportPool((v, t) => Task.FromResult<Deevnet.Extended.Core.Transport.IHostTransport>(new Deevnet.Extended.Core.Transport.LocalTransport()), default)) };
                SiteTier TierWith(int port)
                {
                    var t = new TestTier { Isolation = new IsolationSettings(local, new[] { port }, "tenant-a") };
                    t.Segments.Add(TestTier.Seg("loop", "127.0.0.0/8", SegmentAddressing.Static));
                    return t.Host("h1", "127.0.0.1", segment: "loop", vmid: 211).Build();
                }
                AssertStatus(Run(TierWith(openPort), backends).One("isolation-vantage"), CheckStatus.Failed, $"Port(s) {openPort} of 127.0.0.1 are reachable from local (tenant-a)");
                AssertStatus(Run(TierWith(closedPort), backends).One("isolation-vantage"), CheckStatus.Passed, "No port");
            }
            finally
            {
                open.Stop();
            }
        }

        private sealed class Catalog : IBackupCatalog
        {
            public Task<BackupView?> NewestGoodAsync(string service, CancellationToken cancellationToken) => Task.FromResult(service switch
            {
                "fresh" => new BackupView("fresh-1", new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero)),
                "stale" => new BackupView("stale-1", new DateTimeOffset(2025, 12, 30, 0, 0, 0, TimeSpan.Zero)),
                _ => (BackupView?)null,
            });
        }

        [Fact]
        public void BackupMustBeDeclaredAndTheNewestGoodOneYoungerThanMaxAge()
        {
            var paths = new ServiceBackup(new[] { "/srv/data" }, null, null, null);
            var t = new TestTier { Backup = new BackupSettings("/srv/backups", "age1xyz", null, TimeSpan.FromHours(36), 30) };
            var tier = t.Host("h1", "10.9.0.11", vmid: 211)
                .Service("fresh", "h1", backup: paths).Service("stale", "h1", backup: paths).Service("never", "h1", backup: paths)
                .Service("stateless", "h1").Build();
            var now = new DateTime(2026, 1, 2, 12, 0, 0, DateTimeKind.Utc);
            var results = Run(tier, new CheckBackends { Backups = Backend<IBackupCatalog>.Available(new Catalog()) }, utcNow: () => now);
            AssertStatus(results.One("backup-fresh", "fresh"), CheckStatus.Passed, "12 h ago");
            AssertStatus(results.One("backup-fresh", "stale"), CheckStatus.Failed, "older than backup.maxAge 36 h");
            AssertStatus(results.One("backup-fresh", "never"), CheckStatus.Skipped, "No backup of never yet");
            AssertStatus(results.One("backup-declared", "stateless"), CheckStatus.Passed, "stateless test service");
            Assert.DoesNotContain(results, r => r.Service == "stateless" && r.Check == "backup-fresh");
        }

        [Fact]
        public void SelectionFiltersByHostServiceClassAndCheck()
        {
            var tier = new TestTier().Host("h1", "10.9.0.11", vmid: 211).Host("h2", "10.9.0.12", vmid: 212)
                .Service("grafana", "h1").Service("runner", "h2", ServiceClass.Automation).Build();
            var byService = new CheckSelection();
            byService.Targets.Add(new CheckTarget(null, new[] { "graf*" }));
            var r1 = Run(tier, selection: byService);
            Assert.All(r1, r => Assert.Equal("h1", r.Host));
            Assert.Contains(r1, r => r.Service == "" && r.Check == "isolation-segment");

            var byClass = new CheckSelection();
            byClass.Classes.Add("automation");
            byClass.Checks.Add("backup-*");
            var r2 = Run(tier, selection: byClass);
            Assert.Equal(new[] { "runner" }, r2.Select(r => r.Service).Distinct());
            Assert.All(r2, r => Assert.StartsWith("backup-", r.Check));

            var union = new CheckSelection();
            union.Targets.Add(new CheckTarget(new[] { "h1" }, null));
            union.Targets.Add(new CheckTarget(null, new[] { "runner" }));
            union.Checks.Add("isolation-segment");
            Assert.Equal(new[] { "h1", "h2" }, Run(tier, selection: union).Select(r => r.Host).ToArray());
        }
    }
}
