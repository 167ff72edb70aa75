using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Deevnet.Extended.Commands;
using Deevnet.Extended.Completers;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Tier
{
    /// <summary>The six tier/identity cmdlets hosted in-process. One class, so the $env:DEEV_TIER tests never run in parallel.</summary>
    public class TierCmdletTests
    {
        private static PowerShell NewShell()
        {
            var iss = InitialSessionState.CreateDefault2();
            foreach (var (name, type) in new[]
            {
                ("Get-DeevTier", typeof(GetDeevTierCommand)), ("Get-DeevMgmtHost", typeof(GetDeevMgmtHostCommand)),
                ("Get-DeevService", typeof(GetDeevServiceCommand)), ("Get-DeevHostIdentity", typeof(GetDeevHostIdentityCommand)),
                ("New-DeevHostIdentity", typeof(NewDeevHostIdentityCommand)), ("Test-DeevHostIdentity", typeof(TestDeevHostIdentityCommand)),
            })
                iss.Commands.Add(new SessionStateCmdletEntry(name, type, null));
            return PowerShell.Create(iss);
        }

        /// <summary>A private copy of the lab example, so identity files are written into a temp folder.</summary>
        private static string LabCopy(TierTestFiles files) =>
            files.Write(File.ReadAllText(TierTestFiles.RepoFile("examples/lab.tier.yaml")), "lab.tier.yaml");

        [Fact]
        public void GetDeevTierReturnsTheSummary()
        {
            using var files = new TierTestFiles();
            using var ps = NewShell();
            var result = ps.AddCommand("Get-DeevTier").AddParameter("Tier", LabCopy(files)).Invoke<TierSummary>().Single();
            Assert.Equal(("lab", 4, 4, "900-999"), (result.Name, result.HostCount, result.ServiceCount, result.VmIdRange));
        }

        [Fact]
        public void MgmtHostsPipeIntoGetDeevHostIdentityByPropertyName()
        {
            using var files = new TierTestFiles();
            using var ps = NewShell();
            ps.AddScript("param($t) Get-DeevMgmtHost -TierPath $t -Segment management | Get-DeevHostIdentity").AddArgument(LabCopy(files));
            var ids = ps.Invoke<HostIdentity>();
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(new[] { "dv99obs001v01", "dv99aut001v01", "dv99acc001v01" }, ids.Select(i => i.HostName));
            Assert.Equal("02:de:99:00:03:85", ids[0].MacAddress);
            Assert.Equal(IdentitySource.Unallocated, ids[1].Source);
        }

        [Fact]
        public void MgmtHostPropertiesAndFilters()
        {
            using var files = new TierTestFiles();
            using var ps = NewShell();
            var hosts = ps.AddCommand("Get-DeevMgmtHost").AddParameter("TierPath", LabCopy(files)).AddParameter("Service", "metr*").Invoke<MgmtHostInfo>();
            var h = Assert.Single(hosts);
            Assert.Equal(("dv99obs001v01", "10.231.99.21", 901, "dv99obs001v01.lab.deevnet.test", "labvirt"), (h.Name, h.IPAddress, h.VmId!.Value, h.Fqdn, h.Hypervisor!));
            Assert.Equal(new[] { "metrics" }, h.Services);
        }

        [Fact]
        public void UnknownHostNameIsANonTerminatingError()
        {
            using var files = new TierTestFiles();
            using var ps = NewShell();
            var hosts = ps.AddCommand("Get-DeevMgmtHost").AddParameter("TierPath", LabCopy(files)).AddParameter("Name", new[] { "nope", "dv99acc*" }).Invoke<MgmtHostInfo>();
            Assert.Equal("dv99acc001v01", Assert.Single(hosts).Name);
            Assert.StartsWith("HostNotFound,", Assert.Single(ps.Streams.Error).FullyQualifiedErrorId);
        }

        [Fact]
        public void HostsPipeIntoGetDeevServiceByHostName()
        {
            using var files = new TierTestFiles();
            using var ps = NewShell();
            ps.AddScript("param($t) Get-DeevMgmtHost dv99obs001v01 -TierPath $t | Get-DeevService").AddArgument(LabCopy(files));
            var s = Assert.Single(ps.Invoke<ServiceInfo>());
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(("metrics", "metrics", ServiceClass.Observability, "10.231.99.21"), (s.Name, s.Service, s.Class, s.IPAddress));
            Assert.Equal(new[] { "grafana.lab.deevnet.test", "metrics.lab.deevnet.test" }, s.Fqdn);
        }

        [Fact]
        public void NewDeevHostIdentityWhatIfWritesNothing()
        {
            using var files = new TierTestFiles();
            var tier = LabCopy(files);
            using var ps = NewShell();
            var output = ps.AddCommand("New-DeevHostIdentity").AddParameter("TierPath", tier).AddParameter("WhatIf").Invoke();
            Assert.Empty(output);
            Assert.False(File.Exists(Path.Combine(files.Folder, "lab.identity.yaml")));
            Assert.False(ps.HadErrors);
            // The What-if text goes to the host UI (none here); the plan it prints is asserted in the Core tests.
        }

        [Fact]
        public void NewDeevHostIdentityAllocatesThenTestIsQuietTrue()
        {
            using var files = new TierTestFiles();
            var tier = LabCopy(files);
            using var ps = NewShell();
            Assert.False(ps.AddCommand("Test-DeevHostIdentity").AddParameter("TierPath", tier).AddParameter("Quiet").Invoke<bool>().Single());
            ps.Commands.Clear();
            var ids = ps.AddCommand("New-DeevHostIdentity").AddParameter("TierPath", tier).AddParameter("Name", "dv99aut001v01").Invoke<HostIdentity>();
            Assert.Equal((900, IdentitySource.Allocated), (Assert.Single(ids).VmId!.Value, ids[0].Source));
            Assert.True(File.Exists(Path.Combine(files.Folder, "lab.identity.yaml")));
            ps.Commands.Clear();
            Assert.True(ps.AddCommand("Test-DeevHostIdentity").AddParameter("TierPath", tier).AddParameter("Quiet").Invoke<bool>().Single());
        }

        [Fact]
        public void TestDeevHostIdentityEmitsFindings()
        {
            using var files = new TierTestFiles();
            var tier = LabCopy(files);
            File.WriteAllText(Path.Combine(files.Folder, "lab.identity.yaml"), IdentityFile.Marker + "\nhosts:\n  dv99aut001v01: { vmid: 901, mac: \"02:de:99:00:03:85\" }\n");
            using var ps = NewShell();
            var findings = ps.AddCommand("Test-DeevHostIdentity").AddParameter("TierPath", tier).Invoke<IdentityFinding>();
            var f = Assert.Single(findings);
            Assert.Equal((IdentityRule.DuplicateVmId, "dv99aut001v01"), (f.Rule, f.HostName));
        }

        [Fact]
        public void InvalidTierIsTerminatingWithTierFileInvalid()
        {
            using var files = new TierTestFiles();
            var path = files.Write(TierTestFiles.Valid.Replace("vmid: 207", "vmid: 300").Replace("ip: 10.1.99.11", "ip: 10.1.99.10"));
            using var ps = NewShell();
            ps.AddScript("param($t) try { Get-DeevMgmtHost -TierPath $t; 'not reached' } catch { $_ }").AddArgument(path);
            var record = (ErrorRecord)Assert.Single(ps.Invoke()).BaseObject;
            Assert.StartsWith("TierFileInvalid,", record.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidData, record.CategoryInfo.Category);
            Assert.Contains("has 2 problems", record.Exception.Message);
            Assert.Contains("t.tier.yaml:9:", record.Exception.Message);
            Assert.Contains("t.tier.yaml:10:", record.Exception.Message);
        }

        [Fact]
        public void TierPathComesFromTheEnvironmentOrIsAClearError()
        {
            using var files = new TierTestFiles();
            var tier = LabCopy(files);
            var saved = Environment.GetEnvironmentVariable("DEEV_TIER");
            try
            {
                Environment.SetEnvironmentVariable("DEEV_TIER", tier);
                using (var ps = NewShell())
                    Assert.Equal(4, ps.AddCommand("Get-DeevMgmtHost").Invoke().Count);

                Environment.SetEnvironmentVariable("DEEV_TIER", null);
                using (var ps = NewShell())
                {
                    ps.AddScript("try { Get-DeevService; 'not reached' } catch { $_ }");
                    var record = (ErrorRecord)Assert.Single(ps.Invoke()).BaseObject;
                    Assert.StartsWith("TierPathMissing,", record.FullyQualifiedErrorId);
                }
            }
            finally
            {
                Environment.SetEnvironmentVariable("DEEV_TIER", saved);
            }
        }

        [Fact]
        public void CompletersOfferNamesFromTheBoundTierAndNeverThrow()
        {
            using var files = new TierTestFiles();
            var bound = new Hashtable { ["TierPath"] = LabCopy(files) };
            var hosts = new HostNameCompleter().CompleteArgument("Get-DeevMgmtHost", "Name", "dv99a", null!, bound).Select(c => c.CompletionText);
            Assert.Equal(new[] { "dv99acc001v01", "dv99aut001v01" }, hosts);
            var services = new ServiceNameCompleter().CompleteArgument("Get-DeevService", "Name", "", null!, new Hashtable { ["Tier"] = bound["TierPath"] }).Select(c => c.CompletionText);
            Assert.Equal(new[] { "docs", "jump", "metrics", "runner" }, services);
            var broken = new Hashtable { ["TierPath"] = files.Write("site: [", "broken.tier.yaml") };
            Assert.Empty(new HostNameCompleter().CompleteArgument("Get-DeevMgmtHost", "Name", "", null!, broken));
            Assert.Empty(new HostNameCompleter().CompleteArgument("Get-DeevMgmtHost", "Name", "", null!, new Hashtable { ["TierPath"] = "/nonexistent/x.yaml" }));
        }
    }
}
