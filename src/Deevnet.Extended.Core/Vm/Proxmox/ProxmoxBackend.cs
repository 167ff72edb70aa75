using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Text;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// Management VMs on one Proxmox VE node, as Deevnet's proxmox_vm role builds them: full clone of the newest
    /// template by name prefix, then one config update (cores, memory, agent, onboot, startup, net0 with the MAC on the
    /// bridge and VLAN, cloud-init), the data disk only when no disk carries its serial, the OS disk grown (never shrunk),
    /// the pending configuration read back and every value checked.
    /// </summary>
    public sealed class ProxmoxBackend : IVmBackend
    {
        private const string OsDiskKey = "osdisk";
        private const string DataDiskKey = "datadisk";

        private readonly Hypervisor _hypervisor;
        private readonly ProxmoxClient _client;
        private readonly string _node;
        private readonly string _nodePath;

        public ProxmoxBackend(Hypervisor hypervisor, IOperationLog? log = null)
        {
            _hypervisor = hypervisor;
            _node = hypervisor.Require("node");
            _nodePath = "/nodes/" + Uri.EscapeDataString(_node);
            _client = new ProxmoxClient(hypervisor, log ?? NullOperationLog.Instance);
        }

        public string Name => _hypervisor.Name;

        /// <summary>How often running tasks are polled (tests shorten it).</summary>
        public TimeSpan PollInterval { get => _client.PollInterval; set => _client.PollInterval = value; }

        private string Target => $"{_hypervisor.Name} (node {_node})";

        public async Task<IReadOnlyList<VmInfo>> ListAsync(CancellationToken cancellationToken)
        {
            var list = await ListRawAsync(cancellationToken).ConfigureAwait(false);
            var result = new List<VmInfo>();
            foreach (var entry in list)
            {
                var vm = await ReadAsync(entry, cancellationToken).ConfigureAwait(false);
                if (vm != null) result.Add(vm);
            }
            return result;
        }

        public async Task<VmInfo?> GetAsync(int vmId, CancellationToken cancellationToken)
        {
            var entry = (await ListRawAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(e => VmIdOf(e) == vmId);
            return entry == null ? null : await ReadAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        public async Task<VmInfo?> FindByNameAsync(string name, CancellationToken cancellationToken)
        {
            var entry = (await ListRawAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(e => Json.Str(e, "name") == name);
            return entry == null ? null : await ReadAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        public async Task<ChangePlan> PlanAsync(VmSpec spec, CancellationToken cancellationToken)
        {
            var list = await ListRawAsync(cancellationToken).ConfigureAwait(false);
            var existing = await OwnedAsync(spec, list, cancellationToken).ConfigureAwait(false);
            if (existing == null) return VmPlanning.ForNew(spec, Target, NewestTemplate(list).Name, Desired(spec, null));
            return VmPlanning.ForExisting(spec, existing, Target, Desired(spec, existing));
        }

        public async Task<VmInfo> ApplyAsync(VmSpec spec, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var activity = $"VM {spec.Name}";
            var list = await ListRawAsync(cancellationToken).ConfigureAwait(false);
            var vm = await OwnedAsync(spec, list, cancellationToken).ConfigureAwait(false);
            if (vm == null)
            {
                var template = NewestTemplate(list);
                progress?.Report(new OperationProgress(activity, $"Cloning {template.Name} ({template.VmId}) to {spec.VmId}", 10));
                var form = new List<KeyValuePair<string, string>> { Pair("newid", spec.VmId), Pair("name", spec.Name), Pair("full", "1") };
                var storage = _hypervisor.Get("storage");
                if (storage != null) form.Add(Pair("storage", storage));
                var upid = await _client.PostAsync($"{_nodePath}/qemu/{template.VmId}/clone", form, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"cloning {template.Name} to VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
                vm = await GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                    ?? throw VmErrors.BackendFailed(Target, "clone", $"VM {spec.VmId} does not exist after the clone task ended OK");
            }

            var settings = Desired(spec, vm);
            var pending = VmPlanning.Pending(vm, settings);
            var config = pending.Where(s => s.Key != OsDiskKey && s.Key != DataDiskKey).Select(s => Pair(s.Key, Encode(s.Key, s.Desired))).ToList();
            if (config.Count > 0)
            {
                progress?.Report(new OperationProgress(activity, "Setting " + string.Join(", ", config.Select(c => c.Key)), 40));
                var upid = await _client.PostAsync($"{_nodePath}/qemu/{spec.VmId}/config", config, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"updating the configuration of VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
            }
            if (spec.DataDisk != null && pending.Any(s => s.Key == DataDiskKey))
            {
                progress?.Report(new OperationProgress(activity, $"Creating the {spec.DataDisk.SizeGb}G data disk", 60));
                var slot = FreeScsiSlot(vm);
                var storage = _hypervisor.Get("storage") ?? StorageOf(vm)
                    ?? throw VmErrors.BackendFailed(Target, "data disk", $"no storage for VM {spec.VmId}'s data disk: set {_hypervisor.Section}.storage");
                var upid = await _client.PostAsync($"{_nodePath}/qemu/{spec.VmId}/config",
                    new[] { Pair(slot, $"{storage}:{spec.DataDisk.SizeGb},serial={spec.DataDisk.Serial}") }, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"creating the data disk of VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
            }
            if (spec.DiskGb != null && pending.Any(s => s.Key == OsDiskKey))
            {
                var slot = OsDisk(vm)?.Slot ?? throw VmErrors.BackendFailed(Target, "disk resize", $"VM {spec.VmId} has no OS disk");
                progress?.Report(new OperationProgress(activity, $"Growing {slot} to {spec.DiskGb}G", 75));
                // The absolute size with its G suffix: re-running asks for the same size, which PVE accepts as a no-op.
                var upid = await _client.PutAsync($"{_nodePath}/qemu/{spec.VmId}/resize", new[] { Pair("disk", slot), Pair("size", spec.DiskGb + "G") }, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"growing {slot} of VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(new OperationProgress(activity, "Reading the configuration back", 90));
            var readBack = await GetAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                ?? throw VmErrors.BackendFailed(Target, "read-back", $"VM {spec.VmId} vanished");
            VmPlanning.Verify(spec, readBack, Desired(spec, readBack));
            return readBack;
        }

        public async Task StartAsync(int vmId, CancellationToken cancellationToken)
        {
            var vm = await RequireAsync(vmId, cancellationToken).ConfigureAwait(false);
            if (vm.Running) return;
            var upid = await _client.PostAsync($"{_nodePath}/qemu/{vmId}/status/start", Array.Empty<KeyValuePair<string, string>>(), cancellationToken).ConfigureAwait(false);
            await _client.WaitTaskAsync(_node, upid, $"starting VM {vmId}", cancellationToken).ConfigureAwait(false);
        }

        public async Task StopAsync(int vmId, bool force, CancellationToken cancellationToken)
        {
            var vm = await RequireAsync(vmId, cancellationToken).ConfigureAwait(false);
            if (!vm.Running) return;
            var upid = await _client.PostAsync($"{_nodePath}/qemu/{vmId}/status/{(force ? "stop" : "shutdown")}", Array.Empty<KeyValuePair<string, string>>(), cancellationToken).ConfigureAwait(false);
            await _client.WaitTaskAsync(_node, upid, $"{(force ? "stopping" : "shutting down")} VM {vmId}", cancellationToken).ConfigureAwait(false);
        }

        public async Task RemoveAsync(int vmId, CancellationToken cancellationToken)
        {
            await StopAsync(vmId, true, cancellationToken).ConfigureAwait(false);
            var upid = await _client.DeleteAsync($"{_nodePath}/qemu/{vmId}", new[] { Pair("purge", "1"), Pair("destroy-unreferenced-disks", "1") }, cancellationToken).ConfigureAwait(false);
            await _client.WaitTaskAsync(_node, upid, $"removing VM {vmId}", cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => _client.Dispose();

        /// <summary>The managed settings for <paramref name="spec"/>, as PVE config keys plus two disk pseudo-keys.</summary>
        internal static IReadOnlyList<VmSetting> Desired(VmSpec spec, VmInfo? vm)
        {
            var s = new List<VmSetting>
            {
                new VmSetting("cores", spec.Cores.ToString(CultureInfo.InvariantCulture)),
                new VmSetting("memory", spec.MemoryMb.ToString(CultureInfo.InvariantCulture)),
                new VmSetting("agent", "1", a => a == "1" || (a != null && a.StartsWith("enabled=1", StringComparison.Ordinal)) || (a != null && a.StartsWith("1,", StringComparison.Ordinal))),
                new VmSetting("onboot", spec.StartOnBoot ? "1" : "0"),
            };
            if (spec.Startup != null)
            {
                var startup = "order=" + spec.Startup.Order + (spec.Startup.Up != null ? ",up=" + spec.Startup.Up : "") + (spec.Startup.Down != null ? ",down=" + spec.Startup.Down : "");
                s.Add(new VmSetting("startup", startup));
            }
            var net0 = $"virtio={spec.MacAddress.ToUpperInvariant()},bridge={spec.Bridge}" + (spec.Vlan != null ? ",tag=" + spec.Vlan : "");
            s.Add(new VmSetting("net0", net0, a => ProxmoxConfig.SameNic(net0, a)));
            var ci = spec.CloudInit;
            s.Add(new VmSetting("ipconfig0", ci.Dhcp ? "ip=dhcp" : $"ip={ci.AddressCidr}" + (ci.Gateway != null ? ",gw=" + ci.Gateway : "")));
            s.Add(new VmSetting("ciuser", ci.User));
            if (ci.SshPublicKey != null) s.Add(new VmSetting("sshkeys", ci.SshPublicKey, a => a != null && a.Trim() == ci.SshPublicKey));
            if (!ci.Dhcp && ci.DnsServers.Count > 0) s.Add(new VmSetting("nameserver", string.Join(" ", ci.DnsServers)));
            if (!ci.Dhcp && ci.SearchDomain != null) s.Add(new VmSetting("searchdomain", ci.SearchDomain));
            if (spec.DataDisk != null)
                s.Add(new VmSetting(DataDiskKey, $"{spec.DataDisk.SizeGb}G serial={spec.DataDisk.Serial}", a => a != null && a.Contains("serial=" + spec.DataDisk.Serial)));
            if (spec.DiskGb != null)
                s.Add(new VmSetting(OsDiskKey, $">= {spec.DiskGb}G", a => a != null && ProxmoxConfig.ParseSize(a.Split(' ').Last()) >= (long)spec.DiskGb.Value << 30));
            return s;
        }

        private static string Encode(string key, string value) =>
            // PVE stores sshkeys URL-encoded and rejects a raw key ("invalid urlencoded string").
            key == "sshkeys" ? Uri.EscapeDataString(value) : value;

        private async Task<JsonArray> ListRawAsync(CancellationToken ct) =>
            await _client.GetAsync($"{_nodePath}/qemu", ct).ConfigureAwait(false) as JsonArray ?? new JsonArray();

        private async Task<VmInfo?> OwnedAsync(VmSpec spec, JsonArray list, CancellationToken ct)
        {
            var byIdEntry = list.FirstOrDefault(e => VmIdOf(e) == spec.VmId);
            var byNameEntry = list.FirstOrDefault(e => Json.Str(e, "name") == spec.Name && !Json.Flag(e, "template"));
            var byId = byIdEntry == null ? null : await ReadAsync(byIdEntry, ct).ConfigureAwait(false);
            var byName = byNameEntry == null ? null : Summary(byNameEntry);
            return VmPlanning.CheckOwnership(spec, byId, byName, Target);
        }

        private (string Name, int VmId) NewestTemplate(JsonArray list)
        {
            var prefix = _hypervisor.Template;
            var templates = list.Where(e => Json.Flag(e, "template") && Json.Str(e, "name") != null).ToList();
            var newest = TemplateOrder.Newest(templates.Select(e => Json.Str(e, "name")!), prefix)
                ?? throw VmErrors.Create(VmErrors.VmTemplateNotFound, DeevErrorKind.ObjectNotFound,
                    $"{Target} has no template whose name starts with '{prefix}'.", _hypervisor.Name,
                    "Build the template (image factory) or fix the hypervisor's 'template' prefix in the tier file.");
            var entry = templates.Where(e => Json.Str(e, "name") == newest).OrderBy(VmIdOf).First();
            return (newest, VmIdOf(entry));
        }

        private async Task<VmInfo> RequireAsync(int vmId, CancellationToken ct) =>
            await GetAsync(vmId, ct).ConfigureAwait(false)
            ?? throw VmErrors.Create(VmErrors.VmNotFound, DeevErrorKind.ObjectNotFound, $"{Target} has no VM {vmId}.", vmId);

        private async Task<VmInfo?> ReadAsync(JsonNode? entry, CancellationToken ct)
        {
            var vmId = VmIdOf(entry);
            var raw = await _client.GetAsync($"{_nodePath}/qemu/{vmId}/config", ct).ConfigureAwait(false) as JsonObject;
            if (raw == null) return null;
            var config = raw.Where(kv => kv.Value != null).ToDictionary(kv => kv.Key, kv => Json.Str(raw, kv.Key)!, StringComparer.Ordinal);
            if (config.TryGetValue("sshkeys", out var keys)) config["sshkeys"] = Uri.UnescapeDataString(keys);
            var disks = ProxmoxConfig.Disks(config);
            var settings = new Dictionary<string, string>(config, StringComparer.Ordinal);
            var osSlot = ProxmoxConfig.OsDiskSlot(config, disks);
            var os = disks.FirstOrDefault(d => d.Slot == osSlot);
            if (os != null) settings[OsDiskKey] = $"{os.Slot} {os.SizeBytes >> 20}M";
            var data = disks.FirstOrDefault(d => d.Serial != null && d.Slot != osSlot);
            if (data != null) settings[DataDiskKey] = $"{data.Slot} {data.SizeBytes >> 20}M serial={data.Serial}";
            var nic = ProxmoxConfig.Nic(config.TryGetValue("net0", out var n) ? n : null);
            return new VmInfo(
                config.TryGetValue("name", out var name) ? name : Json.Str(entry, "name") ?? vmId.ToString(CultureInfo.InvariantCulture),
                vmId, _hypervisor.Name, _node, nic.Mac, nic.Bridge, nic.Vlan,
                Json.Str(entry, "status") ?? "unknown",
                config.TryGetValue("onboot", out var onboot) && onboot == "1",
                ProxmoxConfig.StartupOrder(config.TryGetValue("startup", out var st) ? st : null),
                Int(config, "cores", 1), Int(config, "memory", 512), disks,
                Json.Flag(entry, "template") || config.TryGetValue("template", out var t) && t == "1",
                settings);
        }

        private VmInfo Summary(JsonNode? entry) =>
            new VmInfo(Json.Str(entry, "name") ?? "", VmIdOf(entry), _hypervisor.Name, _node, null, null, null,
                Json.Str(entry, "status") ?? "unknown", false, null, 0, 0, Array.Empty<VmDisk>(), Json.Flag(entry, "template"));

        private VmDisk? OsDisk(VmInfo vm) =>
            vm.Settings.TryGetValue(OsDiskKey, out var os) ? vm.Disks.FirstOrDefault(d => d.Slot == os.Split(' ')[0]) : null;

        private static string? StorageOf(VmInfo vm)
        {
            var source = vm.Disks.FirstOrDefault()?.Source;
            var colon = source?.IndexOf(':') ?? -1;
            return colon > 0 ? source!.Substring(0, colon) : null;
        }

        private static string FreeScsiSlot(VmInfo vm)
        {
            for (var i = 1; i < 31; i++)
            {
                var slot = "scsi" + i;
                if (!vm.Settings.ContainsKey(slot)) return slot;
            }
            throw VmErrors.BackendFailed(vm.Hypervisor, "data disk", $"VM {vm.VmId} has no free SCSI slot");
        }

        private static int VmIdOf(JsonNode? entry) => int.TryParse(Json.Str(entry, "vmid"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1;

        private static int Int(Dictionary<string, string> config, string key, int fallback) =>
            config.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : fallback;

        private static KeyValuePair<string, string> Pair(string key, string value) => new KeyValuePair<string, string>(key, value);

        private static KeyValuePair<string, string> Pair(string key, int value) => Pair(key, value.ToString(CultureInfo.InvariantCulture));
    }
}
