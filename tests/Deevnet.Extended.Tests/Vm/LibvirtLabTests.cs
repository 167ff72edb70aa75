using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The VM cmdlets against the lab's libvirtd (test driver, shared state) and its dnsmasq: what virsh reports after
    /// Get-DeevMgmtHost | New-DeevMgmtVm, idempotence, stop/start/remove, and the identity chain to a DHCP lease.
    /// Run under `flock /tmp/deevnet-lab.lock`.
    /// </summary>
    public sealed class LibvirtLabTests : IDisposable
    {
        private static readonly string[] Hosts = { "dv99obs001v01", "dv99aut001v01", "dv99acc001v01", "dv99web001v01" };
        private readonly LabEnvironment _lab;
        private readonly string _tier;

        public LibvirtLabTests()
        {
            _lab = LabEnvironment.Current ?? LabEnvironment.Require();
            _tier = _lab["DEEV_LAB_TIER"];
            CleanUp();
            var prep = VmPowerShell.Run(
                "New-DeevHostIdentity -TierPath $t -Confirm:$false | Out-Null; " +
                "Get-DeevMgmtHost -TierPath $t -Segment management | Set-DeevDhcpReservation -Confirm:$false", _tier);
            Assert.True(prep.Errors.Count == 0, VmPowerShell.Describe(prep));
        }

        public void Dispose() => CleanUp();

        [LabFact]
        public void New_vm_pipeline_builds_every_lab_vm_as_declared_and_a_second_run_changes_nothing()
        {
            var first = VmPowerShell.Run("Get-DeevMgmtHost -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.True(first.Errors.Count == 0, VmPowerShell.Describe(first));
            var vms = first.Output.Select(o => (MgmtVm)o.BaseObject).ToList();
            Assert.Equal(Hosts.OrderBy(h => h), vms.Select(v => v.Name).OrderBy(h => h));
            Assert.All(vms, v => Assert.Equal("created", v.Changes));

            foreach (var vm in vms)
            {
                var xml = XElement.Parse(Virsh("dumpxml", "--inactive", vm.Name));
                var nic = xml.Element("devices")!.Element("interface")!;
                Assert.Equal("bridge", (string?)nic.Attribute("type"));
                Assert.Equal(vm.MacAddress, (string?)nic.Element("mac")!.Attribute("address"));
                var segment = vm.Segment == "management" ? ("br-mgmt", "99") : ("br-plat", "25");
                Assert.Equal(segment.Item1, (string?)nic.Element("source")!.Attribute("bridge"));
                Assert.Equal(segment.Item2, (string?)nic.Element("vlan")!.Element("tag")!.Attribute("id"));
                Assert.Contains("Autostart:      enable", Virsh("dominfo", vm.Name));
                Assert.Equal("running", Virsh("domstate", vm.Name).Trim());
                Assert.True(File.Exists(Path.Combine(_lab["DEEV_LAB_IMAGES"], vm.Name + ".qcow2")));
                Assert.True(File.Exists(Path.Combine(_lab["DEEV_LAB_IMAGES"], vm.Name + "-seed.iso")));
            }
            // The MAC is the identity's, derived from the VMID: 901 -> 02:de:99:00:03:85.
            Assert.Equal("02:de:99:00:03:85", vms.Single(v => v.Name == "dv99obs001v01").MacAddress);
            var obs = XElement.Parse(Virsh("dumpxml", "--inactive", "dv99obs001v01"));
            Assert.Contains(obs.Element("devices")!.Elements("disk"), d => (string?)d.Element("serial") == "deevnet-data");
            // The overlay is of the newest template by version (1.2, not 1.0).
            var backing = Run("qemu-img", "info", "--output=json", Path.Combine(_lab["DEEV_LAB_IMAGES"], "dv99obs001v01.qcow2"));
            Assert.Contains("lab-base-1.2.qcow2", backing);

            var before = Hosts.ToDictionary(h => h, h => Virsh("dumpxml", "--inactive", h));
            var second = VmPowerShell.Run("Get-DeevMgmtHost -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.True(second.Errors.Count == 0, VmPowerShell.Describe(second));
            Assert.All(second.Output.Select(o => (MgmtVm)o.BaseObject), v => Assert.Equal("unchanged", v.Changes));
            Assert.All(Hosts, h => Assert.Equal(before[h], Virsh("dumpxml", "--inactive", h)));

            var stop = VmPowerShell.Run("Stop-DeevMgmtVm dv99acc001v01 -TierPath $t -Confirm:$false -PassThru", _tier);
            Assert.True(stop.Errors.Count == 0, VmPowerShell.Describe(stop));
            Assert.Equal("shut off", Virsh("domstate", "dv99acc001v01").Trim());
            var start = VmPowerShell.Run("Start-DeevMgmtVm dv99acc001v01 -TierPath $t", _tier);
            Assert.True(start.Errors.Count == 0, VmPowerShell.Describe(start));
            Assert.Equal("running", Virsh("domstate", "dv99acc001v01").Trim());

            var remove = VmPowerShell.Run("Get-DeevMgmtHost dv99acc001v01 -TierPath $t | Remove-DeevMgmtVm -Confirm:$false", _tier);
            Assert.True(remove.Errors.Count == 0, VmPowerShell.Describe(remove));
            Assert.DoesNotContain("dv99acc001v01", Virsh("list", "--all", "--name"));
            Assert.False(File.Exists(Path.Combine(_lab["DEEV_LAB_IMAGES"], "dv99acc001v01.qcow2")));
            var get = VmPowerShell.Run("Get-DeevMgmtVm dv99acc001v01 -TierPath $t", _tier);
            Assert.Equal("absent", ((MgmtVm)get.Output.Single().BaseObject).State);
        }

        [LabFact]
        public void Missing_reservation_stops_the_build_and_nothing_is_created()
        {
            var drop = VmPowerShell.Run("Get-DeevMgmtHost dv99obs001v01 -TierPath $t | Remove-DeevDhcpReservation -Confirm:$false", _tier);
            Assert.True(drop.Errors.Count == 0, VmPowerShell.Describe(drop));
            var r = VmPowerShell.Run("Get-DeevMgmtHost dv99obs001v01 -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.Equal(VmErrors.ReservationMissing, r.Errors.Single().FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("Set-DeevDhcpReservation", r.Errors.Single().ErrorDetails.RecommendedAction);
            Assert.DoesNotContain("dv99obs001v01", Virsh("list", "--all", "--name"));
        }

        [LabFact]
        public void Identity_chain_a_guest_with_the_vms_mac_leases_the_reserved_address_and_its_name_resolves()
        {
            var built = VmPowerShell.Run("Get-DeevMgmtHost dv99obs001v01 -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.True(built.Errors.Count == 0, VmPowerShell.Describe(built));
            var mac = (string)XElement.Parse(Virsh("dumpxml", "dv99obs001v01")).Element("devices")!.Element("interface")!.Element("mac")!.Attribute("address")!;

            Lab("guest", "add", "vmobs", "--mac", mac, "--segment", "management");
            var lease = Lab("guest", "dhcp", "vmobs");
            Assert.Contains("10.231.99.21", lease);
            var answer = Run("dig", "+short", "@" + _lab["DEEV_LAB_SSH_HOST"], "dv99obs001v01." + _lab["DEEV_LAB_DOMAIN"], "A");
            Assert.Equal("10.231.99.21", answer.Trim());

            // The guest plays the VM: once it answers on 22, New-DeevMgmtVm without -NoWait returns.
            Lab("guest", "ssh", "vmobs");
            var waited = VmPowerShell.Run("Get-DeevMgmtHost dv99obs001v01 -TierPath $t | New-DeevMgmtVm -WaitTimeoutSec 30", _tier);
            Assert.True(waited.Errors.Count == 0, VmPowerShell.Describe(waited));
            Assert.Equal("unchanged", ((MgmtVm)waited.Output.Single().BaseObject).Changes);
        }

        private void CleanUp()
        {
            try { Lab("guest", "del", "vmobs"); } catch (Exception) { }
            var names = Virsh("list", "--all", "--name");
            foreach (var h in Hosts.Where(h => names.Contains(h)))
            {
                try { Virsh("destroy", h); } catch (Exception) { }
                Virsh("undefine", h);
            }
            foreach (var f in Directory.GetFiles(_lab["DEEV_LAB_IMAGES"]).Where(f => Hosts.Any(h => Path.GetFileName(f).StartsWith(h, StringComparison.Ordinal))))
                File.Delete(f);
            VmPowerShell.Run("Get-DeevMgmtHost -TierPath $t -Segment management | Remove-DeevDhcpReservation -Confirm:$false -ErrorAction SilentlyContinue", _tier);
        }

        private string Virsh(params string[] args) => Run("virsh", new[] { "-q", "-c", _lab["DEEV_LAB_LIBVIRT_URI"] }.Concat(args).ToArray());

        private string Lab(params string[] args) => Run(_lab["DEEV_LAB_LAB_SH"], args);

        private static string Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(" ", args)} failed ({p.ExitCode}): {stderr}");
            return stdout.Result;
        }
    }
}
