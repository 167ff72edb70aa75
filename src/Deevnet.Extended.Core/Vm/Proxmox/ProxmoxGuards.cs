using System.Linq;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Text;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// The checks that must pass before a VM is cloned on Proxmox VE: its VMID is free in the whole cluster, and the
    /// template has a cloud-init drive. Both only read, so -WhatIf refuses as early as a build does.
    /// </summary>
    internal sealed class ProxmoxGuards
    {
        private readonly ProxmoxClient _client;
        private readonly string _nodePath;
        private readonly string _target;

        public ProxmoxGuards(ProxmoxClient client, string nodePath, string target)
        {
            _client = client;
            _nodePath = nodePath;
            _target = target;
        }

        /// <summary>
        /// A VMID is free only when no guest anywhere in the cluster holds it. <c>/cluster/resources?type=vm</c> lists
        /// qemu and lxc guests of every node, but only those the token may audit (pve-manager <c>PVE/API2/Cluster.pm</c>
        /// <c>resources</c> skips guests without VM.Audit). So <c>/cluster/nextid?vmid=N</c> is asked as well: it checks
        /// the whole VM list whatever the token's permissions (<c>nextid</c>: "user => all", <c>raise_param_exc</c>
        /// "VM N already exists", HTTP 400), so a guest the token cannot see still blocks the VMID. Any other failure of
        /// either call stops the build: the module never clones on an unanswered question.
        /// </summary>
        public async Task RequireVmIdFreeAsync(VmSpec spec, CancellationToken ct)
        {
            var guests = await _client.GetAsync("/cluster/resources?type=vm", ct).ConfigureAwait(false) as JsonArray ?? new JsonArray();
            var holder = guests.FirstOrDefault(g => Json.Str(g, "vmid") == spec.VmId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (holder != null)
                throw Conflict(spec, $"VMID {spec.VmId} is held in the cluster by the {Json.Str(holder, "type") ?? "guest"} '{Json.Str(holder, "name") ?? "(no name)"}' " +
                    $"on node {Json.Str(holder, "node") ?? "?"}, not by {spec.Name}. Nothing was changed.", "move or renumber that guest yourself");
            var (_, refusal) = await _client.GetOrRefusalAsync($"/cluster/nextid?vmid={spec.VmId}", ct).ConfigureAwait(false);
            if (refusal != null)
                throw Conflict(spec, $"VMID {spec.VmId} is in use in the cluster by a guest this token cannot see (PVE: {refusal}). Nothing was changed.",
                    $"ask the cluster's administrator who holds VMID {spec.VmId}");
        }

        /// <summary>
        /// Without a cloud-init drive PVE stores ipconfig0, ciuser and sshkeys but no guest ever reads them, so the VM
        /// would boot with the template's identity. A drive is cloud-init when its volume is named so (qemu-server
        /// <c>src/PVE/QemuServer/Drive.pm</c> <c>drive_is_cloudinit</c>).
        /// </summary>
        public async Task RequireCloudInitAsync(VmSpec spec, string template, int templateId, CancellationToken ct)
        {
            var raw = await _client.GetAsync($"{_nodePath}/qemu/{templateId}/config?current=1", ct).ConfigureAwait(false) as JsonObject;
            if (raw != null && raw.Any(kv => ProxmoxConfig.IsCloudInitDrive(kv.Key, Json.Str(raw, kv.Key)))) return;
            throw VmErrors.Create(VmErrors.VmTemplateNoCloudInit, DeevErrorKind.InvalidData,
                $"{_target}: the template '{template}' ({templateId}) has no cloud-init drive, so {spec.Name}'s address, user and keys would be ignored. Nothing was cloned.",
                template, $"Add a cloud-init drive to the template (qm set {templateId} --ide2 <storage>:cloudinit) or rebuild it with the image factory.");
        }

        private static DeevException Conflict(VmSpec spec, string message, string otherwise) =>
            VmErrors.Create(VmErrors.VmIdConflict, DeevErrorKind.ResourceExists, message, spec.Name,
                $"Give {spec.Name} a free VMID (New-DeevHostIdentity), or {otherwise}.");
    }
}
