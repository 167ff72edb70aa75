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
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// Management VMs on one Proxmox VE node, as Deevnet's proxmox_vm role builds them: full clone of the newest
    /// template by name prefix, then one config update (cores, memory, agent, onboot, startup, net0 with the MAC on the
    /// bridge and VLAN, cloud-init, and the data disk only when no disk carries its serial), the OS disk grown (never
    /// shrunk), the configuration read back and every value checked.
    /// Safety on a shared cluster: a VMID is used only when no guest of the cluster holds it (<see cref="ProxmoxGuards"/>);
    /// a template without a cloud-init drive is refused before cloning; every config write carries the <c>digest</c> of
    /// the configuration it was planned from, so PVE refuses it when someone edited the VM in between. On a running VM,
    /// values that wait for a restart are read as current values plus <see cref="VmInfo.RestartPending"/>.
    /// </summary>
    public sealed class ProxmoxBackend : IVmBackend
    {
        private const string OsDiskKey = "osdisk";
        private const string DataDiskKey = "datadisk";
        private const string DigestKey = "digest";
        private const string CiCustomKey = "cicustom";

        private readonly Hypervisor _hypervisor;
        private readonly ProxmoxClient _client;
        private readonly string _node;
        private readonly string _nodePath;
        private readonly ProxmoxGuards _guards;
        private readonly ProxmoxSnippets? _snippets;

        /// <summary>The back end of <paramref name="hypervisor"/>; <paramref name="node"/> is the node over SSH (its
        /// <c>via</c>), needed only to write first-boot host key snippets (<see cref="SeedsHostKey"/>).</summary>
        public ProxmoxBackend(Hypervisor hypervisor, IOperationLog? log = null, IHostTransport? node = null)
        {
            _hypervisor = hypervisor;
            _node = hypervisor.Require("node");
            _nodePath = "/nodes/" + Uri.EscapeDataString(_node);
            _client = new ProxmoxClient(hypervisor, log ?? NullOperationLog.Instance);
            _guards = new ProxmoxGuards(_client, _nodePath, Target);
            _snippets = ProxmoxSnippets.For(hypervisor, node, Target);
        }

        public string Name => _hypervisor.Name;

        /// <summary>With <c>snippetStorage</c>, <c>snippetDir</c> and <c>via</c>: the key goes in as a <c>cicustom</c> user snippet.</summary>
        public bool SeedsHostKey => _snippets != null;

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
            if (existing == null) return VmPlanning.ForNew(spec, Target, (await CloneSourceAsync(spec, list, cancellationToken).ConfigureAwait(false)).Name, DesiredFor(spec, null));
            return VmPlanning.ForExisting(spec, existing.Effective, Target, DesiredFor(spec, existing.Vm));
        }

        public async Task<VmInfo> ApplyAsync(VmSpec spec, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var activity = $"VM {spec.Name}";
            var list = await ListRawAsync(cancellationToken).ConfigureAwait(false);
            var read = await OwnedAsync(spec, list, cancellationToken).ConfigureAwait(false);
            if (read == null)
            {
                var template = await CloneSourceAsync(spec, list, cancellationToken).ConfigureAwait(false);
                progress?.Report(new OperationProgress(activity, $"Cloning {template.Name} ({template.VmId}) to {spec.VmId}", 10));
                var form = new List<KeyValuePair<string, string>> { Pair("newid", spec.VmId), Pair("name", spec.Name), Pair("full", "1") };
                var storage = _hypervisor.Get("storage");
                if (storage != null) form.Add(Pair("storage", storage));
                var upid = await _client.PostAsync($"{_nodePath}/qemu/{template.VmId}/clone", form, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"cloning {template.Name} to VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
                read = await ReadByIdAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                    ?? throw VmErrors.BackendFailed(Target, "clone", $"VM {spec.VmId} does not exist after the clone task ended OK");
            }

            var vm = read.Vm;
            var pending = VmPlanning.Pending(read.Effective, DesiredFor(spec, vm));
            var config = pending.Where(s => s.Key != OsDiskKey && s.Key != DataDiskKey).Select(s => Pair(s.Key, Encode(s.Key, s.Desired))).ToList();
            if (spec.DataDisk != null && pending.Any(s => s.Key == DataDiskKey))
            {
                var storage = _hypervisor.Get("storage") ?? StorageOf(vm)
                    ?? throw VmErrors.BackendFailed(Target, "data disk", $"no storage for VM {spec.VmId}'s data disk: set {_hypervisor.Section}.storage");
                config.Add(Pair(FreeScsiSlot(vm), $"{storage}:{spec.DataDisk.SizeGb},serial={spec.DataDisk.Serial}"));
            }
            if (spec.FirstBootHostKey != null && _snippets != null)
            {
                // Always written with this run's key (recorded in known_hosts already), before PVE is pointed at it:
                // PVE reads the snippet whenever it builds the cloud-init drive.
                progress?.Report(new OperationProgress(activity, "Writing the cloud-init snippet with the first-boot host key", 35));
                await _snippets.WriteAsync(spec, cancellationToken).ConfigureAwait(false);
            }
            if (config.Count > 0)
            {
                progress?.Report(new OperationProgress(activity, "Setting " + string.Join(", ", config.Select(c => c.Key)), 40));
                // One write, guarded by the digest the plan was made from: PVE refuses it when the VM changed since.
                if (Digest(vm) is { Length: > 0 } digest) config.Add(Pair(DigestKey, digest));
                var upid = await _client.PostAsync($"{_nodePath}/qemu/{spec.VmId}/config", config, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"updating the configuration of VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
            }
            if (spec.DiskGb != null && pending.Any(s => s.Key == OsDiskKey))
            {
                // Our own write changed the digest: the resize is guarded by a fresh read, which also names the disk.
                var fresh = config.Count > 0 ? (await ReadByIdAsync(spec.VmId, cancellationToken).ConfigureAwait(false))?.Vm ?? vm : vm;
                var slot = OsDisk(fresh)?.Slot ?? throw VmErrors.BackendFailed(Target, "disk resize", $"VM {spec.VmId} has no OS disk");
                progress?.Report(new OperationProgress(activity, $"Growing {slot} to {spec.DiskGb}G", 75));
                // The absolute size with its G suffix: re-running asks for the same size, which PVE accepts as a no-op.
                var resize = new List<KeyValuePair<string, string>> { Pair("disk", slot), Pair("size", spec.DiskGb + "G") };
                if (Digest(fresh) is { Length: > 0 } digest) resize.Add(Pair(DigestKey, digest));
                var upid = await _client.PutAsync($"{_nodePath}/qemu/{spec.VmId}/resize", resize, cancellationToken).ConfigureAwait(false);
                await _client.WaitTaskAsync(_node, upid, $"growing {slot} of VM {spec.VmId}", cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(new OperationProgress(activity, "Reading the configuration back", 90));
            var readBack = await ReadByIdAsync(spec.VmId, cancellationToken).ConfigureAwait(false)
                ?? throw VmErrors.BackendFailed(Target, "read-back", $"VM {spec.VmId} vanished");
            // What PVE will run with (pending values included) must be what was asked; what it runs with now is returned,
            // with the settings that wait for a restart named.
            VmPlanning.Verify(spec, readBack.Effective, DesiredFor(spec, readBack.Vm));
            return WithWrittenCloudInit(readBack.Vm, config.Select(c => c.Key));
        }

        /// <summary>
        /// A running guest reads cloud-init (and sees a new MAC) only at boot. PVE 9.2 writes these keys to the config
        /// at once, but its <c>…/cloudinit</c> listing names only changed ci*/nameserver/searchdomain/sshkeys, not
        /// ipconfigN or netN (qemu-server <c>src/PVE/API2/Qemu.pm</c> <c>cloudinit_pending</c>), so what this apply
        /// wrote is added here.
        /// </summary>
        private static VmInfo WithWrittenCloudInit(VmInfo vm, IEnumerable<string> written)
        {
            if (!vm.Running) return vm;
            var waiting = new SortedSet<string>(vm.RestartPending, StringComparer.Ordinal);
            foreach (var key in written.Where(ProxmoxConfig.ReadAtBoot)) waiting.Add(key);
            return waiting.Count == vm.RestartPending.Count ? vm : With(vm, vm.Settings, waiting.ToList());
        }

        /// <summary>
        /// Reboots a running VM (<c>POST …/status/reboot</c>: upstream's reboot applies pending changes, qemu-server
        /// <c>src/PVE/API2/Qemu.pm</c> <c>vm_reboot</c>, and a fresh start regenerates the cloud-init drive).
        /// </summary>
        public async Task RestartAsync(int vmId, CancellationToken cancellationToken)
        {
            var vm = await RequireAsync(vmId, cancellationToken).ConfigureAwait(false);
            if (!vm.Running) return;
            var upid = await _client.PostAsync($"{_nodePath}/qemu/{vmId}/status/reboot", Array.Empty<KeyValuePair<string, string>>(), cancellationToken).ConfigureAwait(false);
            await _client.WaitTaskAsync(_node, upid, $"rebooting VM {vmId}", cancellationToken).ConfigureAwait(false);
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
            var vm = await RequireAsync(vmId, cancellationToken).ConfigureAwait(false);
            await StopAsync(vmId, true, cancellationToken).ConfigureAwait(false);
            var upid = await _client.DeleteAsync($"{_nodePath}/qemu/{vmId}", new[] { Pair("purge", "1"), Pair("destroy-unreferenced-disks", "1") }, cancellationToken).ConfigureAwait(false);
            await _client.WaitTaskAsync(_node, upid, $"removing VM {vmId}", cancellationToken).ConfigureAwait(false);
            // The VM's snippet holds its first-boot host key's private half; PVE does not remove snippets with a VM.
            if (_snippets != null) await _snippets.RemoveAsync(vm.Name, vmId, cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => _client.Dispose();

        /// <summary>
        /// <see cref="Desired"/> plus, for a VM being created with a first-boot host key, the <c>cicustom</c> that points
        /// PVE at the key's snippet. An existing VM's <c>cicustom</c> is never compared: the key only matters at first boot.
        /// </summary>
        private IReadOnlyList<VmSetting> DesiredFor(VmSpec spec, VmInfo? vm)
        {
            var settings = Desired(spec, vm);
            if (spec.FirstBootHostKey == null || _snippets == null) return settings;
            return settings.Append(new VmSetting(CiCustomKey, _snippets.CiCustom(spec))).ToList();
        }

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

        private async Task<VmRead?> OwnedAsync(VmSpec spec, JsonArray list, CancellationToken ct)
        {
            var byIdEntry = list.FirstOrDefault(e => VmIdOf(e) == spec.VmId);
            var byNameEntry = list.FirstOrDefault(e => Json.Str(e, "name") == spec.Name && !Json.Flag(e, "template"));
            var byId = byIdEntry == null ? null : await ReadFullAsync(byIdEntry, ct).ConfigureAwait(false);
            var byName = byNameEntry == null ? null : Summary(byNameEntry);
            return VmPlanning.CheckOwnership(spec, byId?.Vm, byName, Target) == null ? null : byId;
        }

        /// <summary>The template a new VM is cloned from, once the checks that must pass before any clone have passed.</summary>
        private async Task<(string Name, int VmId)> CloneSourceAsync(VmSpec spec, JsonArray list, CancellationToken ct)
        {
            await _guards.RequireVmIdFreeAsync(spec, ct).ConfigureAwait(false);
            var template = NewestTemplate(list);
            await _guards.RequireCloudInitAsync(spec, template.Name, template.VmId, ct).ConfigureAwait(false);
            return template;
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

        /// <summary>A VM as it runs now (<see cref="Vm"/>) and as it will run after a restart (<see cref="Effective"/>).</summary>
        private sealed record VmRead(VmInfo Vm, VmInfo Effective);

        private async Task<VmInfo?> ReadAsync(JsonNode? entry, CancellationToken ct) => (await ReadFullAsync(entry, ct).ConfigureAwait(false))?.Vm;

        private async Task<VmRead?> ReadByIdAsync(int vmId, CancellationToken ct)
        {
            var entry = (await ListRawAsync(ct).ConfigureAwait(false)).FirstOrDefault(e => VmIdOf(e) == vmId);
            return entry == null ? null : await ReadFullAsync(entry, ct).ConfigureAwait(false);
        }

        /// <summary>
        /// Reads the current configuration (<c>current=1</c>: without it PVE answers with pending values applied,
        /// qemu-server <c>src/PVE/API2/Qemu.pm</c> <c>vm_config</c>). On a running VM it also reads what waits for a
        /// restart: <c>…/pending</c> (values PVE could not hot-plug, <c>vm_pending</c>) and <c>…/cloudinit</c> (values in
        /// the config that the cloud-init drive does not hold yet, <c>cloudinit_pending</c>; PVE writes cloud-init keys
        /// and hot-plugged NICs at once, <c>PVE::QemuServer::vmconfig_hotplug_pending</c>, but the guest reads them at boot).
        /// </summary>
        private async Task<VmRead?> ReadFullAsync(JsonNode? entry, CancellationToken ct)
        {
            var current = await ReadCurrentAsync(entry, ct).ConfigureAwait(false);
            if (current == null || !current.Running) return current == null ? null : new VmRead(current, current);
            var path = $"{_nodePath}/qemu/{current.VmId}";
            var waiting = new SortedSet<string>(StringComparer.Ordinal);
            var effective = new Dictionary<string, string>(current.Settings, StringComparer.Ordinal);
            foreach (var item in await _client.GetAsync(path + "/pending", ct).ConfigureAwait(false) as JsonArray ?? new JsonArray())
            {
                var key = Json.Str(item, "key");
                var value = Json.Str(item, "pending");
                var delete = Json.Str(item, "delete");
                if (key == null || (value == null && (delete == null || delete == "0"))) continue;
                waiting.Add(key);
                if (value == null) effective.Remove(key);
                else effective[key] = key == "sshkeys" ? Uri.UnescapeDataString(value) : value;
            }
            foreach (var item in await _client.GetAsync(path + "/cloudinit", ct).ConfigureAwait(false) as JsonArray ?? new JsonArray())
            {
                var key = Json.Str(item, "key");
                if (key != null && (Json.Str(item, "pending") != null || Json.Str(item, "delete") is { } d && d != "0")) waiting.Add(key);
            }
            if (waiting.Count == 0) return new VmRead(current, current);
            var now = With(current, current.Settings, waiting.ToList());
            return new VmRead(now, With(current, effective, waiting.ToList()));
        }

        private static VmInfo With(VmInfo vm, IReadOnlyDictionary<string, string> settings, IReadOnlyList<string> waiting)
        {
            var nic = ProxmoxConfig.Nic(settings.TryGetValue("net0", out var n) ? n : null);
            return new VmInfo(vm.Name, vm.VmId, vm.Hypervisor, vm.Node, nic.Mac, nic.Bridge, nic.Vlan, vm.State, vm.StartOnBoot, vm.StartupOrder,
                vm.Cores, vm.MemoryMb, vm.Disks, vm.IsTemplate, settings, waiting);
        }

        private static string Digest(VmInfo vm) => vm.Settings.TryGetValue(DigestKey, out var d) ? d : "";

        private async Task<VmInfo?> ReadCurrentAsync(JsonNode? entry, CancellationToken ct)
        {
            var vmId = VmIdOf(entry);
            var raw = await _client.GetAsync($"{_nodePath}/qemu/{vmId}/config?current=1", ct).ConfigureAwait(false) as JsonObject;
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
