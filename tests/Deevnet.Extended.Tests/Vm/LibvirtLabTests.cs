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
    /// <summary>The space of LibvirtLabTests: hosts vmobs001v01… (VMIDs 1200-1299, MACs 02:de:3a:…), 10.231.99.48-63.</summary>
    public sealed class LibvirtLabSpace : LabSpaceFixture
    {
        public LibvirtLabSpace() : base("vm")
        {
        }
    }

    /// <summary>
    /// The VM cmdlets against the lab's libvirtd (test driver, shared state) and its dnsmasq: what virsh reports after
    /// Get-DeevMgmtHost | New-DeevMgmtVm, idempotence, stop/start/remove, and the identity chain to a DHCP lease.
    /// Everything is in the space vm (tests/lab/spaces): the lab tier rewritten there, its own VM names, VMIDs, MACs,
    /// addresses, dnsmasq hosts file and images; the guest vm-obs. Run under `flock /tmp/deevnet-lab.lock`.
    /// </summary>
    public sealed class LibvirtLabTests : IClassFixture<LibvirtLabSpace>, IDisposable
    {
        private readonly string[] Hosts;
        private readonly LabEnvironment _lab;
        private readonly LabSpace _space;
        private readonly string _tier;
        private readonly string _guest;

        public LibvirtLabTests(LibvirtLabSpace fixture)
        {
            _lab = LabEnvironment.Require();
            _space = fixture.Space;
            _tier = _space.Tier;
            _guest = _space.GuestPrefix + "obs";
            Hosts = new[] { "obs001v01", "aut001v01", "acc001v01", "web001v01" }.Select(_space.Host).ToArray();
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
            // The MAC is the identity's, derived from the VMID: the space's first VMID + 1 (the lab tier's 901), e.g.
            // 1201 -> 02:de:3a:00:04:b1.
            Assert.Equal(_space.MacForVmId(_space.FirstVmId + 1), vms.Single(v => v.Name == Obs).MacAddress);
            var obs = XElement.Parse(Virsh("dumpxml", "--inactive", Obs));
            Assert.Contains(obs.Element("devices")!.Elements("disk"), d => (string?)d.Element("serial") == "deevnet-data");
            // The overlay is of the newest template by version (1.2, not 1.0).
            var backing = Run("qemu-img", "info", "--output=json", Path.Combine(_lab["DEEV_LAB_IMAGES"], Obs + ".qcow2"));
            Assert.Contains("lab-base-1.2.qcow2", backing);

            var before = Hosts.ToDictionary(h => h, h => Virsh("dumpxml", "--inactive", h));
            var second = VmPowerShell.Run("Get-DeevMgmtHost -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.True(second.Errors.Count == 0, VmPowerShell.Describe(second));
            Assert.All(second.Output.Select(o => (MgmtVm)o.BaseObject), v => Assert.Equal("unchanged", v.Changes));
            Assert.All(Hosts, h => Assert.Equal(before[h], Virsh("dumpxml", "--inactive", h)));

            var stop = VmPowerShell.Run($"Stop-DeevMgmtVm {Acc} -TierPath $t -Confirm:$false -PassThru", _tier);
            Assert.True(stop.Errors.Count == 0, VmPowerShell.Describe(stop));
            Assert.Equal("shut off", Virsh("domstate", Acc).Trim());
            var start = VmPowerShell.Run($"Start-DeevMgmtVm {Acc} -TierPath $t", _tier);
            Assert.True(start.Errors.Count == 0, VmPowerShell.Describe(start));
            Assert.Equal("running", Virsh("domstate", Acc).Trim());

            var remove = VmPowerShell.Run($"Get-DeevMgmtHost {Acc} -TierPath $t | Remove-DeevMgmtVm -Confirm:$false", _tier);
            Assert.True(remove.Errors.Count == 0, VmPowerShell.Describe(remove));
            Assert.DoesNotContain(Acc, Virsh("list", "--all", "--name").Split('\n'));
            Assert.False(File.Exists(Path.Combine(_lab["DEEV_LAB_IMAGES"], Acc + ".qcow2")));
            var get = VmPowerShell.Run($"Get-DeevMgmtVm {Acc} -TierPath $t", _tier);
            Assert.Equal("absent", ((MgmtVm)get.Output.Single().BaseObject).State);
        }

        [LabFact]
        public void Missing_reservation_stops_the_build_and_nothing_is_created()
        {
            var drop = VmPowerShell.Run($"Get-DeevMgmtHost {Obs} -TierPath $t | Remove-DeevDhcpReservation -Confirm:$false", _tier);
            Assert.True(drop.Errors.Count == 0, VmPowerShell.Describe(drop));
            var r = VmPowerShell.Run($"Get-DeevMgmtHost {Obs} -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.Equal(VmErrors.ReservationMissing, r.Errors.Single().FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("Set-DeevDhcpReservation", r.Errors.Single().ErrorDetails.RecommendedAction);
            Assert.DoesNotContain(Obs, Virsh("list", "--all", "--name").Split('\n'));
        }

        [LabFact]
        public void Identity_chain_a_guest_with_the_vms_mac_leases_the_reserved_address_and_its_name_resolves()
        {
            var built = VmPowerShell.Run($"Get-DeevMgmtHost {Obs} -TierPath $t | New-DeevMgmtVm -NoWait", _tier);
            Assert.True(built.Errors.Count == 0, VmPowerShell.Describe(built));
            var mac = (string)XElement.Parse(Virsh("dumpxml", Obs)).Element("devices")!.Element("interface")!.Element("mac")!.Attribute("address")!;

            // The lab tier's .21 is the space's fifth address.
            Lab("guest", "add", _guest, "--mac", mac, "--segment", "management");
            var lease = Lab("guest", "dhcp", _guest);
            Assert.Equal(_space.Mgmt(5), lease.Trim());
            // dnsmasq registers the reservation's name (the host's) in its own domain when the guest leases.
            var answer = Run("dig", "+short", "@" + _lab["DEEV_LAB_SSH_HOST"], Obs + "." + _lab["DEEV_LAB_DOMAIN"], "A");
            Assert.Equal(_space.Mgmt(5), answer.Trim());

            // The guest plays the VM: once it answers on 22, New-DeevMgmtVm without -NoWait returns.
            Lab("guest", "ssh", _guest);
            var waited = VmPowerShell.Run($"Get-DeevMgmtHost {Obs} -TierPath $t | New-DeevMgmtVm -WaitTimeoutSec 30", _tier);
            Assert.True(waited.Errors.Count == 0, VmPowerShell.Describe(waited));
            Assert.Equal("unchanged", ((MgmtVm)waited.Output.Single().BaseObject).Changes);
        }

        private string Obs => Hosts[0];
        private string Acc => Hosts[2];

        /// <summary>Removes the space's guest, VMs, images and reservations (only those: the space's names).</summary>
        private void CleanUp()
        {
            if (Lab("guest", "list").Split('\n').Any(l => l.Split(' ')[0] == _guest)) Lab("guest", "del", _guest);
            var names = Virsh("list", "--all", "--name").Split('\n').Select(n => n.Trim()).ToList();
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
