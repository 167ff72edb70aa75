using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Tests.Http;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The Proxmox back end where a real PVE 9.2 behaves differently from a naive client: tasks ending with warnings,
    /// VMIDs held elsewhere in the cluster, values that wait for a restart, templates without cloud-init, concurrent edits.
    /// </summary>
    public sealed class ProxmoxUpstreamTests
    {
        private const string Host = "dv20obs001v01";
        private const string OldMac = "02:de:20:00:01:99";

        [Fact]
        public async Task A_task_ending_with_warnings_succeeds_and_its_warnings_are_passed_on()
        {
            using var f = new ProxmoxFixture();
            f.Pve.FailingTasks["qmclone"] = ("WARNINGS: 1", new[] { "create full clone of drive scsi0", "WARN: clone: storage 'local-lvm' is 91% full", "TASK WARNINGS: 1" });
            f.Pve.FailingTasks["qmconfig"] = ("WARNINGS: 2", new[] { "update VM 301", "WARN: cloud-init: nameserver list has more than 3 entries", "WARN: second warning", "TASK WARNINGS: 2" });
            var log = new ListLog();
            using var backend = f.Backend(log);

            var vm = await backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None);

            Assert.Equal("02:de:20:00:01:2d", vm.MacAddress); // the config task's values are there: the apply went on
            Assert.Contains(log.Warnings, w => w.Contains("storage 'local-lvm' is 91% full") && w.Contains("cloning"));
            Assert.Contains(log.Warnings, w => w.Contains("nameserver list has more than 3 entries"));
            Assert.Contains(log.Warnings, w => w.EndsWith("second warning"));
            Assert.DoesNotContain(log.Warnings, w => w.Contains("TASK WARNINGS"));
        }

        [Fact]
        public async Task A_failed_task_is_still_a_failure()
        {
            using var f = new ProxmoxFixture();
            f.Pve.FailingTasks["qmconfig"] = ("unable to parse value of 'net0'", new[] { "TASK ERROR: unable to parse value of 'net0'" });
            using var backend = f.Backend();
            var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));
            Assert.Equal(VmErrors.VmTaskFailed, ex.ErrorId);
        }

        [Theory]
        [InlineData("lxc", "pve2", true)]
        [InlineData("qemu", "pve3", true)]
        [InlineData("qemu", "pve3", false)] // the token may not audit it: /cluster/resources hides it, /cluster/nextid does not
        public async Task A_vmid_held_anywhere_in_the_cluster_is_a_conflict_before_anything_is_cloned(string type, string node, bool visible)
        {
            using var f = new ProxmoxFixture();
            f.Pve.OtherGuests.Add((301, type, node, "someone-elses-guest", visible));
            using var backend = f.Backend();

            var plan = await Assert.ThrowsAsync<DeevException>(() => backend.PlanAsync(f.Spec(Host), CancellationToken.None));
            var apply = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));

            Assert.Equal(VmErrors.VmIdConflict, plan.ErrorId);
            Assert.Equal(VmErrors.VmIdConflict, apply.ErrorId);
            if (visible) Assert.Contains($"{type} 'someone-elses-guest' on node {node}", apply.Message);
            else Assert.Contains("cannot see", apply.Message);
            Assert.Empty(f.Pve.Changes);
        }

        [Fact]
        public async Task A_template_without_a_cloud_init_drive_is_refused_before_cloning()
        {
            using var f = new ProxmoxFixture();
            f.Pve.Vms[9000].Remove("ide2");
            using var backend = f.Backend();

            var plan = await Assert.ThrowsAsync<DeevException>(() => backend.PlanAsync(f.Spec(Host), CancellationToken.None));
            var apply = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));

            Assert.Equal(VmErrors.VmTemplateNoCloudInit, plan.ErrorId);
            Assert.Equal(VmErrors.VmTemplateNoCloudInit, apply.ErrorId);
            Assert.Contains("fedora-server-44-1.10", apply.Message);
            Assert.Empty(f.Pve.Changes);
        }

        [Fact]
        public async Task A_concurrent_edit_makes_pve_refuse_the_write_instead_of_being_overwritten()
        {
            using var f = new ProxmoxFixture();
            f.Pve.AddVm(301, Adopted(OldMac));
            f.Pve.BeforeNextConfigWrite = () => f.Pve.Vms[301]["memory"] = "8192"; // someone else, between our read and our write
            using var backend = f.Backend();

            var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));

            Assert.Contains("checksum mismatch", ex.Message);
            Assert.Equal("8192", f.Pve.Vms[301]["memory"]);
            Assert.Equal("1", f.Pve.Vms[301]["cores"]); // nothing of ours was written over their edit
            Assert.Equal("virtio=" + OldMac.ToUpperInvariant() + ",bridge=vmbr0,tag=25", f.Pve.Vms[301]["net0"]);
        }

        [Fact]
        public async Task On_a_running_vm_changes_that_wait_for_a_restart_are_reported_and_read_back_as_current()
        {
            using var f = new ProxmoxFixture();
            var config = Adopted(OldMac);
            config["hotplug"] = "disk,usb"; // no network hot-plug: PVE keeps a new MAC pending
            config["ipconfig0"] = "ip=10.20.25.99/24,gw=10.20.25.1";
            f.Pve.AddVm(301, config, "running");
            using var backend = f.Backend();

            var vm = await backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None);

            Assert.Equal(OldMac, vm.MacAddress); // what runs now, not the pending value
            Assert.Equal("1", vm.Settings["cores"]);
            Assert.True(vm.RestartRequired);
            Assert.Equal(new[] { "cores", "ipconfig0", "net0" }, vm.RestartPending);
            Assert.Equal("02:DE:20:00:01:2D", f.Pve.Pending[301]["net0"].Split('=', ',')[1]);

            // Applying again changes nothing and still says a restart is needed.
            var before = f.Pve.Changes.Count;
            var plan = await backend.PlanAsync(f.Spec(Host), CancellationToken.None);
            Assert.False(plan.HasChanges);
            Assert.True((await backend.GetAsync(301, CancellationToken.None))!.RestartRequired);
            Assert.Equal(before, f.Pve.Changes.Count);
        }

        [Fact]
        public async Task Restart_reboots_the_vm_so_pending_changes_take_effect()
        {
            using var f = new ProxmoxFixture();
            var config = Adopted(OldMac);
            config["hotplug"] = "0";
            f.Pve.AddVm(301, config, "running");
            using var backend = f.Backend();
            var provisioner = new VmProvisioner(backend, null);
            var spec = f.Spec(Host);

            var plan = await provisioner.PlanAsync(spec, CancellationToken.None);
            var vm = await provisioner.BuildAsync(spec, plan, new VmBuildOptions { Restart = true, Wait = false }, null, CancellationToken.None);

            Assert.Equal("02:de:20:00:01:2d", vm.MacAddress);
            Assert.Equal("2", vm.Settings["cores"]);
            Assert.False(vm.RestartRequired);
            Assert.True(vm.Running);
            Assert.Equal("POST /nodes/pve1/qemu/301/status/reboot", f.Pve.Changes.Last());

            // Without -Restart a VM with nothing pending is not rebooted.
            await provisioner.BuildAsync(spec, await provisioner.PlanAsync(spec, CancellationToken.None), new VmBuildOptions { Restart = true, Wait = false }, null, CancellationToken.None);
            Assert.Single(f.Pve.Changes, c => c.EndsWith("/status/reboot"));
        }

        [Fact]
        public void New_DeevMgmtVm_warns_about_a_pending_restart_and_Restart_reboots_the_vm()
        {
            using var f = new ProxmoxFixture();
            var config = Adopted(OldMac);
            config["hotplug"] = "0";
            f.Pve.AddVm(301, config, "running");

            var first = VmPowerShell.Run($"New-DeevMgmtVm {Host} -TierPath $t -NoWait -Confirm:$false", f.TierPath);

            Assert.True(first.Errors.Count == 0, VmPowerShell.Describe(first));
            var vm = first.Output.Single();
            Assert.True((bool)vm.Properties["RestartRequired"].Value);
            Assert.Equal(OldMac, vm.Properties["MacAddress"].Value);
            Assert.Contains(first.Warnings, w => w.Contains("net0") && w.Contains("-Restart"));
            Assert.DoesNotContain(f.Pve.Changes, c => c.EndsWith("/status/reboot"));

            var second = VmPowerShell.Run($"New-DeevMgmtVm {Host} -TierPath $t -NoWait -Restart -Confirm:$false", f.TierPath);

            Assert.True(second.Errors.Count == 0, VmPowerShell.Describe(second));
            Assert.False((bool)second.Output.Single().Properties["RestartRequired"].Value);
            Assert.Equal("02:de:20:00:01:2d", second.Output.Single().Properties["MacAddress"].Value);
            Assert.Empty(second.Warnings);
            Assert.Single(f.Pve.Changes, c => c.EndsWith("/status/reboot"));
        }

        /// <summary>VM 301 as the module would build it, but with 1 core, the given MAC and no data disk size change needed.</summary>
        private static Dictionary<string, string> Adopted(string mac) => new Dictionary<string, string>
        {
            ["name"] = Host, ["cores"] = "1", ["memory"] = "4096", ["agent"] = "1", ["onboot"] = "1", ["startup"] = "order=50,up=30",
            ["net0"] = $"virtio={mac.ToUpperInvariant()},bridge=vmbr0,tag=25", ["ipconfig0"] = "ip=10.20.25.22/24,gw=10.20.25.1", ["ciuser"] = "a_autoprov",
            ["sshkeys"] = System.Uri.EscapeDataString(ProxmoxFixture.SshKey), ["nameserver"] = "10.20.25.1 10.20.25.2", ["searchdomain"] = "t.deevnet.test",
            ["boot"] = "order=scsi0;net0", ["scsi0"] = "local-lvm:vm-301-disk-0,size=80G", ["scsi1"] = "local-lvm:vm-301-disk-1,size=100G,serial=deevnet-data",
            ["ide2"] = "local-lvm:vm-301-cloudinit,media=cdrom",
        };
    }
}
