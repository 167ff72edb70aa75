using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// A new Proxmox VM's first-boot host key, handed in as a <c>cicustom</c> user snippet written on the node (here
    /// via: local into the fixture's folder): the double takes the config, <see cref="PveCloudInitDrive"/> builds the
    /// drive from it as PVE does, and real cloud-init 22.4 reads it back (<see cref="RealCloudInit"/>).
    /// </summary>
    public sealed class ProxmoxSnippetTests
    {
        private const string Host = "dv20obs001v01";
        private const string Snippet = "deevnet-dv20obs001v01-301-user.yaml";

        [Fact]
        public async Task New_vm_gets_hostname_user_key_host_key_and_address_from_the_snippet_and_pve_network_config()
        {
            using var f = new ProxmoxFixture(snippets: true);
            using var backend = f.Backend();
            Assert.True(backend.SeedsHostKey);
            var spec = f.Spec(Host);
            spec.FirstBootHostKey = GeneratedHostKey.NewEd25519(spec.Name);

            await backend.ApplyAsync(spec, null, CancellationToken.None);

            var config = f.Pve.Vms[301];
            Assert.Equal("user=local:snippets/" + Snippet, config["cicustom"]);
            var file = Path.Combine(f.SnippetDir, Snippet);
            Assert.Equal(new[] { file }, Directory.GetFiles(f.SnippetDir));   // no temporary file left behind
            Assert.Equal("600", Transport.TestShell.Run("stat", "-c", "%a", file).Trim());   // it holds the private key

            var (user, network, meta) = PveCloudInitDrive.Build(config, new Dictionary<string, string> { ["local"] = f.SnippetDir }, "node.example", "192.0.2.53");
            RealCloudInit.AssertValidUserData(f.Folder, "snippet", user);
            var seen = RealCloudInit.LoadSeed(f.Folder, user, meta, network);

            Assert.Equal("DataSourceNoCloud", seen.GetProperty("datasource").GetString());
            Assert.Equal(Host, seen.GetProperty("hostname").GetString());
            Assert.Equal(Host + ".t.deevnet.test", seen.GetProperty("fqdn").GetString());
            var users = seen.GetProperty("users");
            Assert.Equal(new[] { "a_autoprov" }, users.EnumerateObject().Select(u => u.Name).ToArray());
            Assert.Equal(new[] { ProxmoxFixture.SshKey },
                users.GetProperty("a_autoprov").GetProperty("ssh_authorized_keys").EnumerateArray().Select(k => k.GetString()).ToArray());
            RealCloudInit.AssertSeededHostKey(f.Folder, seen, spec.FirstBootHostKey);

            // PVE's own network config (version 1) still applies: the NIC by MAC, the static address, gateway and DNS.
            var net = seen.GetProperty("network");
            var nic = net.GetProperty("interfaces").EnumerateArray().Single();
            Assert.Equal("eth0", nic.GetProperty("name").GetString());
            Assert.Equal(spec.MacAddress, nic.GetProperty("mac_address").GetString());
            var subnet = nic.GetProperty("subnets").EnumerateArray().Single();
            Assert.Equal("static", subnet.GetProperty("type").GetString());
            Assert.Equal("10.20.25.22", subnet.GetProperty("address").GetString());
            Assert.Equal(24, subnet.GetProperty("prefix").GetInt32());
            Assert.Equal("10.20.25.1", subnet.GetProperty("gateway").GetString());
            Assert.Equal(new[] { "10.20.25.1", "10.20.25.2" }, net.GetProperty("dns_nameservers").EnumerateArray().Select(a => a.GetString()).ToArray());
            Assert.Equal(new[] { "t.deevnet.test" }, net.GetProperty("dns_search").EnumerateArray().Select(a => a.GetString()).ToArray());
        }

        [Fact]
        public async Task Removing_the_vm_removes_its_snippet_with_the_private_host_key_and_no_other_file()
        {
            using var f = new ProxmoxFixture(snippets: true);
            using var backend = f.Backend();
            var spec = f.Spec(Host);
            spec.FirstBootHostKey = GeneratedHostKey.NewEd25519(spec.Name);
            await backend.ApplyAsync(spec, null, CancellationToken.None);
            var operators = Path.Combine(f.SnippetDir, "operator-user.yaml");   // someone else's snippet in the same storage
            File.WriteAllText(operators, "#cloud-config\n");
            Assert.True(File.Exists(Path.Combine(f.SnippetDir, Snippet)));

            await backend.RemoveAsync(301, CancellationToken.None);

            Assert.False(f.Pve.Vms.ContainsKey(301));
            Assert.Equal(new[] { operators }, Directory.GetFiles(f.SnippetDir));
        }

        [Fact]
        public async Task Without_a_snippet_storage_the_backend_seeds_no_key_and_sets_no_cicustom()
        {
            using var f = new ProxmoxFixture();
            using var backend = f.Backend();
            Assert.False(backend.SeedsHostKey);
            var spec = f.Spec(Host);
            await backend.ApplyAsync(spec, null, CancellationToken.None);
            Assert.False(f.Pve.Vms[301].ContainsKey("cicustom"));
        }

        [Fact]
        public async Task A_vm_applied_without_a_first_boot_key_gets_no_snippet_and_no_cicustom()
        {
            using var f = new ProxmoxFixture(snippets: true);
            using var backend = f.Backend();
            var spec = f.Spec(Host);
            await backend.ApplyAsync(spec, null, CancellationToken.None);   // an adopted VM, or a create without a known via
            Assert.False(f.Pve.Vms[301].ContainsKey("cicustom"));
            Assert.Empty(Directory.GetFiles(f.SnippetDir));
        }

        [Fact]
        public void Snippet_storage_without_the_node_over_ssh_is_refused_before_any_call()
        {
            using var f = new ProxmoxFixture(snippets: true);
            var ex = Assert.Throws<DeevException>(() => new Core.Vm.Proxmox.ProxmoxBackend(f.Tier.FindHypervisor("pve1")!, null, null));
            Assert.Equal(VmErrors.VmBackendFailed, ex.ErrorId);
            Assert.Contains("snippetStorage, snippetDir and via", ex.Message);
            Assert.Empty(f.Pve.Calls);
        }

        [Fact]
        public void Tier_refuses_a_snippet_storage_that_is_no_proxmox_storage_id()
        {
            using var f = new ProxmoxFixture(snippets: true);
            var text = File.ReadAllText(f.TierPath).Replace("snippetStorage: local", "snippetStorage: 9local");
            var ex = Assert.Throws<Core.Tier.TierFileInvalidException>(() => Core.Tier.TierLoader.Parse(f.TierPath, text));
            Assert.Equal("hypervisors.pve1.snippetStorage: '9local' is not a Proxmox storage id", Assert.Single(ex.Problems).Message);
        }

        [Fact]
        public void Pve_drive_refuses_a_cicustom_volume_outside_the_snippets_directory()
        {
            var config = new Dictionary<string, string> { ["cicustom"] = "user=local:iso/x.yaml", ["net0"] = "virtio=02:DE:20:00:01:2D,bridge=vmbr0", ["ipconfig0"] = "ip=dhcp" };
            var ex = Assert.Throws<InvalidOperationException>(() => PveCloudInitDrive.Build(config, new Dictionary<string, string> { ["local"] = "/nonexistent" }, "", ""));
            Assert.Equal("local:iso/x.yaml is not in the snippets directory", ex.Message);
        }
    }
}
