using System;
using System.IO;
using Deevnet.Extended.Core.Identity;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Core.Vm.Proxmox;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>A PVE double plus a tier file pointing at it (secret and SSH key in files of a temp folder).</summary>
    public sealed class ProxmoxFixture : IDisposable
    {
        public const string SshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0hW1bGmA3+gqv/Zt0lqN1A0xj0Xc0cQ7C8o0y5p2K a_autoprov@builder";

        /// <param name="snippets">Also a snippet storage <c>local</c> in this folder on "the node" (via: local).</param>
        public ProxmoxFixture(string? fingerprint = null, string secret = PveDouble.Secret, bool snippets = false)
        {
            Pve = new PveDouble();
            Pve.AddTemplate(9000, "fedora-server-44-1.10");
            Pve.AddTemplate(9005, "fedora-server-44-1.9");
            Pve.AddTemplate(9001, "fedora-tenant-45-1.0");
            Folder = Path.Combine(Path.GetTempPath(), "deev-pve-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Folder);
            File.WriteAllText(Path.Combine(Folder, "token"), secret + "\n");
            File.WriteAllText(Path.Combine(Folder, "a_autoprov.pub"), SshKey + "\n");
            var tierPath = TierPath = Path.Combine(Folder, "t.tier.yaml");
            SnippetDir = Path.Combine(Folder, "snippets");
            if (snippets) Directory.CreateDirectory(SnippetDir);
            var snippetKeys = snippets ? $"\n    via: local\n    snippetStorage: local\n    snippetDir: {SnippetDir}" : "";
            var yaml = $@"site: {{ name: t, domain: t.deevnet.test, macNamespace: ""02:de:20"", vmidRange: [300, 399] }}
segments:
  management: {{ vlan: 99, subnet: 10.20.99.0/24, gateway: 10.20.99.1, addressing: reservation }}
  platform:   {{ vlan: 25, subnet: 10.20.25.0/24, gateway: 10.20.25.1, addressing: static, dns: [10.20.25.1, 10.20.25.2] }}
hypervisors:
  pve1:
    kind: proxmox
    endpoint: ""{Pve.Endpoint}""
    node: {PveDouble.Node}
    tokenId: ""{PveDouble.TokenId}""
    tokenSecretFile: token
    tlsFingerprint: ""{fingerprint ?? Pve.Fingerprint}""
    template: fedora-server-
    storage: local-lvm
    ciUser: a_autoprov
    sshKeyFile: a_autoprov.pub{snippetKeys}
hosts:
  dv20obs001v01: {{ segment: platform, ip: 10.20.25.22, hypervisor: pve1, vmid: 301, cores: 2, memory: 4096, disk: 64, dataDisk: {{ size: 100, mount: /srv }}, startup: {{ order: 50, up: 30 }} }}
  dv20nms001v01: {{ segment: management, ip: 10.20.99.40, hypervisor: pve1, vmid: 302 }}
services:
  logs: {{ class: observability, host: dv20obs001v01, backup: {{ none: test }} }}
";
            File.WriteAllText(tierPath, yaml);
            Tier = TierLoader.Parse(tierPath, yaml);
        }

        public PveDouble Pve { get; }
        public string Folder { get; }
        public string TierPath { get; }

        /// <summary>The snippets folder of storage <c>local</c> (exists only with <c>snippets: true</c>).</summary>
        public string SnippetDir { get; }
        public SiteTier Tier { get; }

        public VmSpec Spec(string host)
        {
            var h = Tier.FindHost(host)!;
            return VmSpec.FromTier(Tier, h, h.FixedVmId!.Value, MacAddress.FromVmId(Tier.Site.MacNamespace, h.FixedVmId.Value).ToString());
        }

        public ProxmoxBackend Backend(Core.Diagnostics.IOperationLog? log = null) =>
            new ProxmoxBackend(Tier.FindHypervisor("pve1")!, log, Directory.Exists(SnippetDir) ? new LocalTransport() : null) { PollInterval = TimeSpan.FromMilliseconds(5) };

        public void Dispose()
        {
            Pve.Dispose();
            try { Directory.Delete(Folder, true); } catch (IOException) { }
        }
    }
}
