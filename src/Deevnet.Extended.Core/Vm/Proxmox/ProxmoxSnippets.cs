using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// The cloud-init user-data snippet that hands a new Proxmox VM its first-boot host key. PVE's generated cloud-init
    /// drive has no place for a host key, but <c>cicustom: user=&lt;storage&gt;:snippets/&lt;file&gt;</c> replaces its
    /// generated user-data with a file from a storage that holds snippets (qemu-server src/PVE/QemuServer/Cloudinit.pm
    /// generate_nocloud and read_cloudinit_snippets_file). The API cannot upload snippets, so the file is written over SSH
    /// (the hypervisor's <c>via</c>) into that storage's snippets directory on the node (<c>snippetDir</c>).
    /// With a custom user part PVE no longer writes ciuser or sshkeys anywhere, so the snippet carries the hostname, user,
    /// authorized key and host key itself: it is the libvirt seed's user-data. Network config and meta-data stay PVE's.
    /// The file stays on the node (root only) while the VM lives: PVE reads it again whenever it rebuilds the drive, and a
    /// missing snippet fails the VM's start. Removing the VM removes its snippet (<see cref="RemoveAsync"/>).
    /// </summary>
    internal sealed class ProxmoxSnippets
    {
        // pve-common src/PVE/JSONSchema.pm pve_verify_storage_id: what PVE accepts as a storage id.
        private static readonly Regex StorageId = new Regex("^[a-z][a-z0-9\\-_.]*[a-z0-9]$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

        private readonly string _storage;
        private readonly string _dir;
        private readonly IHostTransport _node;
        private readonly string _target;

        private ProxmoxSnippets(string storage, string dir, IHostTransport node, string target)
        {
            _storage = storage;
            _dir = dir;
            _node = node;
            _target = target;
        }

        /// <summary>
        /// The snippets of <paramref name="hypervisor"/>, or null when it names no <c>snippetStorage</c>. Both
        /// <c>snippetStorage</c> and <c>snippetDir</c> and a <c>via</c> (its transport: <paramref name="node"/>) are needed.
        /// </summary>
        public static ProxmoxSnippets? For(Hypervisor hypervisor, IHostTransport? node, string target)
        {
            var storage = hypervisor.Get("snippetStorage");
            var dir = hypervisor.Get("snippetDir");
            if (storage == null && dir == null) return null;
            if (storage == null || dir == null || node == null)
                throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.InvalidData,
                    $"{hypervisor.Section}: snippetStorage, snippetDir and via (the node over SSH) go together: the first-boot host key is written as a snippet there.",
                    hypervisor.Section);
            if (!StorageId.IsMatch(storage))
                throw VmErrors.Create(VmErrors.VmBackendFailed, DeevErrorKind.InvalidData, $"{hypervisor.Section}.snippetStorage '{storage}' is not a Proxmox storage id.", hypervisor.Section);
            return new ProxmoxSnippets(storage, dir.TrimEnd('/'), node, target);
        }

        /// <summary>One file per VM; name and VMID are validated (DNS label, integer), so the name needs no quoting in PVE's volume id.</summary>
        public static string FileName(VmSpec spec) => FileName(spec.Name, spec.VmId);

        private static string FileName(string name, int vmId) => $"deevnet-{name}-{vmId}-user.yaml";

        /// <summary>The <c>cicustom</c> value: a <c>pve-qm-cicustom</c> property string with only the user part.</summary>
        public string CiCustom(VmSpec spec) => $"user={_storage}:snippets/{FileName(spec)}";

        /// <summary>
        /// Deletes the snippet of a removed VM, if there is one: it holds the VM's first-boot private host key. Only the
        /// module's own file name is touched, and only for a name that follows the name rule (it comes from PVE's answer).
        /// </summary>
        public async Task RemoveAsync(string name, int vmId, CancellationToken cancellationToken)
        {
            if (!NameRules.IsName(name)) return;
            var file = _dir + "/" + FileName(name, vmId);
            var result = await _node.RunAsync($"rm -f -- {ShellQuote.Quote(file)}", cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
                throw VmErrors.BackendFailed(_target, "removing the cloud-init snippet", $"{file}: exit {result.ExitStatus}: {result.StandardError.Trim()}");
        }

        /// <summary>
        /// Writes the snippet: into a temporary file in the directory, then renamed, so PVE never reads half a file. The
        /// user-data goes in on stdin (it holds the host key's private half: never on a command line or in a log); umask
        /// 077 keeps it root's. A missing directory is an error, not created: it must be the storage's snippets folder.
        /// </summary>
        public async Task WriteAsync(VmSpec spec, CancellationToken cancellationToken)
        {
            var file = _dir + "/" + FileName(spec);
            var dir = ShellQuote.Quote(_dir);
            var line = $"umask 077 && test -d {dir} || {{ echo 'no such directory' >&2; exit 3; }}; " +
                $"f=$(mktemp {ShellQuote.Quote(file + ".XXXXXX")}) && cat >\"$f\" && mv -f \"$f\" {ShellQuote.Quote(file)}; rc=$?; rm -f \"$f\"; exit $rc";
            var result = await _node.RunAsync(line, cancellationToken, CloudInitSeed.UserData(spec)).ConfigureAwait(false);
            if (!result.Succeeded)
                throw VmErrors.BackendFailed(_target, "writing the cloud-init snippet", $"{file}: exit {result.ExitStatus}: {result.StandardError.Trim()}");
        }
    }
}
