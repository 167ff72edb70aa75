using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Vm;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>The Proxmox back end against the PVE double: exact calls for a new VM, adoption, conflicts, failures and TLS.</summary>
    public sealed class ProxmoxBackendTests
    {
        private const string Host = "dv20obs001v01";
        private static readonly string EncodedKey = Uri.EscapeDataString(ProxmoxFixture.SshKey);

        [Fact]
        public async Task New_vm_is_cloned_from_the_newest_template_by_version_and_configured_in_this_order()
        {
            using var f = new ProxmoxFixture();
            using var backend = f.Backend();
            var spec = f.Spec(Host);

            var plan = await backend.PlanAsync(spec, CancellationToken.None);
            Assert.Contains(plan.Changes, c => c.Kind == "VM" && c.Action == ChangeAction.Add && c.After == "dv20obs001v01 from fedora-server-44-1.10");
            Assert.Empty(f.Pve.Changes); // planning touches nothing

            var vm = await backend.ApplyAsync(spec, null, CancellationToken.None);

            Assert.Equal(new[]
            {
                "POST /nodes/pve1/qemu/9000/clone full=1&name=dv20obs001v01&newid=301&storage=local-lvm",
                "POST /nodes/pve1/qemu/301/config agent=1&ciuser=a_autoprov&cores=2&digest=<digest>&ipconfig0=ip=10.20.25.22/24,gw=10.20.25.1&memory=4096" +
                    "&nameserver=10.20.25.1 10.20.25.2&net0=virtio=02:DE:20:00:01:2D,bridge=vmbr0,tag=25&onboot=1&scsi1=local-lvm:100,serial=deevnet-data" +
                    $"&searchdomain=t.deevnet.test&sshkeys={EncodedKey}&startup=order=50,up=30",
                "PUT /nodes/pve1/qemu/301/resize digest=<digest>&disk=scsi0&size=64G",
            }, Masked(f.Pve.Changes));
            // Before cloning, the VMID was checked free in the whole cluster and the template for a cloud-init drive.
            Assert.Contains("GET /nodes/pve1/qemu/9000/config current=1", f.Pve.Calls);
            Assert.Contains("GET /cluster/nextid vmid=301", f.Pve.Calls);
            // Every task was followed until it stopped: each UPID polled while running and once more when stopped.
            var polls = f.Pve.Calls.Where(c => c.Contains("/tasks/")).GroupBy(c => c.Split('/')[4]).ToList();
            Assert.Equal(3, polls.Count);
            Assert.All(polls, g => Assert.Equal(2, g.Count()));
            Assert.Equal("02:de:20:00:01:2d", vm.MacAddress);
            Assert.Equal(25, vm.Vlan);
            Assert.True(vm.StartOnBoot);
            Assert.Equal(50, vm.StartupOrder);
            Assert.Equal("deevnet-data", vm.Disks.Single(d => d.Slot == "scsi1").Serial);
            Assert.Equal(64L << 30, vm.Disks.Single(d => d.Slot == "scsi0").SizeBytes);
        }

        /// <summary>The calls with each 40-hex digest replaced by &lt;digest&gt; (the digest itself is checked in PveConsistencyTests).</summary>
        internal static List<string> Masked(IEnumerable<string> calls) =>
            calls.Select(c => System.Text.RegularExpressions.Regex.Replace(c, "digest=[0-9a-f]{40}", "digest=<digest>")).ToList();

        [Fact]
        public async Task Reservation_segment_vm_gets_dhcp_and_no_static_dns()
        {
            using var f = new ProxmoxFixture();
            using var backend = f.Backend();
            await backend.ApplyAsync(f.Spec("dv20nms001v01"), null, CancellationToken.None);
            var config = f.Pve.Changes[1];
            Assert.Contains("ipconfig0=ip=dhcp&", config);
            Assert.DoesNotContain("nameserver", config);
            Assert.Contains("net0=virtio=02:DE:20:00:01:2E,bridge=vmbr0,tag=99", config);
        }

        [Fact]
        public async Task Existing_vm_with_same_vmid_and_name_is_adopted_and_only_differences_are_written()
        {
            using var f = new ProxmoxFixture();
            f.Pve.AddVm(301, new Dictionary<string, string>
            {
                ["name"] = Host, ["cores"] = "1", ["memory"] = "4096", ["agent"] = "1", ["onboot"] = "0", ["startup"] = "order=50,up=30",
                ["net0"] = "virtio=02:DE:20:00:01:2D,bridge=vmbr0,tag=25", ["ipconfig0"] = "ip=10.20.25.22/24,gw=10.20.25.1", ["ciuser"] = "a_autoprov",
                ["sshkeys"] = EncodedKey, ["nameserver"] = "10.20.25.1 10.20.25.2", ["searchdomain"] = "t.deevnet.test", ["boot"] = "order=scsi0;net0",
                ["scsi0"] = "local-lvm:vm-301-disk-0,size=80G", ["scsi1"] = "local-lvm:vm-301-disk-1,size=100G,serial=deevnet-data",
            }, "running");
            using var backend = f.Backend();

            var plan = await backend.PlanAsync(f.Spec(Host), CancellationToken.None);
            Assert.Equal(new[] { $"{Host}.cores", $"{Host}.onboot" }, plan.Changes.Where(c => c.Action == ChangeAction.Change).Select(c => c.Key));
            await backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None);

            // No clone, no new data disk (the serial is there), no resize (80G is more than 64G: never shrink).
            Assert.Equal(new[] { "POST /nodes/pve1/qemu/301/config cores=2&digest=<digest>&onboot=1" }, Masked(f.Pve.Changes));

            var again = await backend.PlanAsync(f.Spec(Host), CancellationToken.None);
            Assert.False(again.HasChanges);
            await backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None);
            Assert.Single(f.Pve.Changes);
        }

        [Fact]
        public async Task Vmid_held_by_another_name_is_a_conflict_and_nothing_is_touched()
        {
            using var f = new ProxmoxFixture();
            f.Pve.AddVm(301, new Dictionary<string, string> { ["name"] = "someone-elses-vm", ["cores"] = "4" });
            using var backend = f.Backend();

            var plan = await Assert.ThrowsAsync<DeevException>(() => backend.PlanAsync(f.Spec(Host), CancellationToken.None));
            var apply = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));

            Assert.Equal(VmErrors.VmIdConflict, plan.ErrorId);
            Assert.Equal(VmErrors.VmIdConflict, apply.ErrorId);
            Assert.Contains("someone-elses-vm", apply.Message);
            Assert.Empty(f.Pve.Changes);
            Assert.Equal("4", f.Pve.Vms[301]["cores"]);
        }

        [Fact]
        public async Task A_template_holding_the_vmid_is_a_conflict_too()
        {
            using var f = new ProxmoxFixture();
            f.Pve.AddTemplate(301, "fedora-server-43-1.0");
            using var backend = f.Backend();
            var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));
            Assert.Equal(VmErrors.VmIdConflict, ex.ErrorId);
            Assert.Empty(f.Pve.Changes);
        }

        [Fact]
        public async Task Failed_task_is_reported_with_its_log()
        {
            using var f = new ProxmoxFixture();
            f.Pve.FailingTasks["qmclone"] = ("storage 'local-lvm' does not exist", new[]
            {
                "create full clone of drive scsi0 (local-lvm:base-9000-disk-0)",
                "TASK ERROR: storage 'local-lvm' does not exist",
            });
            using var backend = f.Backend();

            var ex = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None));

            Assert.Equal(VmErrors.VmTaskFailed, ex.ErrorId);
            Assert.Contains("storage 'local-lvm' does not exist", ex.Message);
            Assert.Contains("create full clone of drive scsi0 (local-lvm:base-9000-disk-0)", ex.Message);
            Assert.Contains(f.Pve.Calls, c => c.StartsWith("GET /nodes/pve1/tasks/UPID:pve1:", StringComparison.Ordinal) && c.Contains("/log"));
            Assert.Equal(new[] { "POST /nodes/pve1/qemu/9000/clone full=1&name=dv20obs001v01&newid=301&storage=local-lvm" }, f.Pve.Changes);
        }

        [Fact]
        public async Task Tls_fingerprint_mismatch_refuses_before_any_request()
        {
            using var f = new ProxmoxFixture(fingerprint: string.Join(":", Enumerable.Repeat("AB", 32)));
            using var backend = f.Backend();

            var ex = await Assert.ThrowsAsync<DeevException>(() => backend.GetAsync(301, CancellationToken.None));

            Assert.Equal(VmErrors.TlsVerificationFailed, ex.ErrorId);
            Assert.Contains(f.Pve.Fingerprint, ex.Message); // names what the server presented
            Assert.Empty(f.Pve.Calls); // no request (and so no token) reached the server
        }

        [Fact]
        public async Task Wrong_token_is_refused_and_the_secret_never_appears_in_the_error()
        {
            using var f = new ProxmoxFixture(secret: "wrong-secret-123");
            using var backend = f.Backend();
            var ex = await Assert.ThrowsAsync<DeevException>(() => backend.GetAsync(301, CancellationToken.None));
            Assert.Equal(VmErrors.HypervisorAuthFailed, ex.ErrorId);
            Assert.DoesNotContain("wrong-secret-123", ex.ToString());
        }

        [Fact]
        public async Task Start_stop_and_remove_use_the_status_and_delete_endpoints()
        {
            using var f = new ProxmoxFixture();
            using var backend = f.Backend();
            await backend.ApplyAsync(f.Spec(Host), null, CancellationToken.None);
            var before = f.Pve.Changes.Count;

            await backend.StartAsync(301, CancellationToken.None);
            Assert.True((await backend.GetAsync(301, CancellationToken.None))!.Running);
            await backend.StopAsync(301, false, CancellationToken.None);
            await backend.StartAsync(301, CancellationToken.None);
            await backend.RemoveAsync(301, CancellationToken.None);

            Assert.Equal(new[]
            {
                "POST /nodes/pve1/qemu/301/status/start",
                "POST /nodes/pve1/qemu/301/status/shutdown",
                "POST /nodes/pve1/qemu/301/status/start",
                "POST /nodes/pve1/qemu/301/status/stop",
                "DELETE /nodes/pve1/qemu/301 destroy-unreferenced-disks=1&purge=1",
            }, f.Pve.Changes.Skip(before));
            Assert.Null(await backend.GetAsync(301, CancellationToken.None));
        }

        [Fact]
        public async Task The_double_rejects_what_pve_rejects()
        {
            // The double is only worth its tests if it is strict: a raw (not URL-encoded) key and an unknown
            // parameter get 400 with per-parameter errors, which the client shows.
            using var f = new ProxmoxFixture();
            using var client = new Core.Vm.Proxmox.ProxmoxClient(f.Tier.FindHypervisor("pve1")!, Core.Diagnostics.NullOperationLog.Instance);
            var ex = await Assert.ThrowsAsync<DeevException>(() => client.PostAsync("/nodes/pve1/qemu/9000/config",
                new[] { new KeyValuePair<string, string>("sshkeys", ProxmoxFixture.SshKey), new KeyValuePair<string, string>("update_unsafe", "1") }, CancellationToken.None));
            Assert.Equal(VmErrors.VmBackendFailed, ex.ErrorId);
            Assert.Contains("sshkeys:", ex.Message);
            Assert.Contains("update_unsafe: property is not defined", ex.Message);
        }

        [Fact]
        public void Template_order_is_by_version_not_by_text()
        {
            var names = new[] { "fedora-server-44-1.9", "fedora-server-44-1.10", "fedora-server-43-2.0", "fedora-tenant-50", "other" };
            Assert.Equal("fedora-server-44-1.10", TemplateOrder.Newest(names, "fedora-server-"));
            Assert.Null(TemplateOrder.Newest(names, "debian-"));
        }
    }
}
