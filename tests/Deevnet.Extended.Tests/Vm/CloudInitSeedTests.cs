using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The libvirt NoCloud seed as real cloud-init (Debian's cloud-init 22.4, build/lab-packages.txt) sees it:
    /// <c>cloud-init schema</c> accepts the user-data, and tests/cloud-init/read_nocloud_seed.py loads the three files
    /// through cloud-init's own NoCloud datasource, user-data handlers and network-state parser. Every value asserted
    /// below is read from cloud-init's result, never from our own reading of the seed. Without cloud-init these fail.
    /// </summary>
    public sealed class CloudInitSeedTests : IDisposable
    {
        private readonly string _dir = Transport.TestShell.TempDirectory("deev-ci-");

        public void Dispose() => Directory.Delete(_dir, true);

        private const string OpsKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHf0V0Nc1Y5B9aLWl2Fq6c0jv8b3D1a9m4y5S7dQe2xR ops@site";

        private static VmSpec StaticSpec() => new VmSpec("dv01acc001v01", 701, "02:de:77:00:02:bd", "kvm1", "management", "br-mgmt", null, 1, 512, null, null, true, null,
            new CloudInitSettings(false, "10.20.25.22/24", IPAddress.Parse("10.20.25.1"), new[] { IPAddress.Parse("10.20.25.2"), IPAddress.Parse("10.20.25.3") },
                "site.test", "ops", OpsKey),
            IPAddress.Parse("10.20.25.22"), "dv01acc001v01.site.test");

        private static VmSpec DhcpSpec() => new VmSpec("dv01web001v01", 702, "02:de:77:00:02:be", "kvm1", "management", "br-mgmt", null, 1, 512, null, null, true, null,
            new CloudInitSettings(true, null, null, Array.Empty<IPAddress>(), null, "deploy", null), IPAddress.Parse("10.20.25.40"), "dv01web001v01.site.test");

        [Fact]
        public void Cloud_init_schema_accepts_the_user_data_with_and_without_a_first_boot_host_key()
        {
            var keyed = StaticSpec();
            keyed.FirstBootHostKey = GeneratedHostKey.NewEd25519(keyed.Name);
            RealCloudInit.AssertValidUserData(_dir, "keyed", CloudInitSeed.UserData(keyed));
            RealCloudInit.AssertValidUserData(_dir, "plain", CloudInitSeed.UserData(DhcpSpec()));
        }

        [Fact]
        public void NoCloud_datasource_reads_hostname_user_keys_host_key_and_static_addressing()
        {
            var spec = StaticSpec();
            spec.FirstBootHostKey = GeneratedHostKey.NewEd25519(spec.Name);
            var seen = LoadSeed(spec);

            Assert.Equal("22.4.2", seen.GetProperty("cloud_init_version").GetString());
            Assert.Equal("DataSourceNoCloud", seen.GetProperty("datasource").GetString());
            Assert.Equal("dv01acc001v01-701", seen.GetProperty("instance_id").GetString());
            Assert.Equal("dv01acc001v01", seen.GetProperty("local_hostname").GetString());
            Assert.Equal("dv01acc001v01", seen.GetProperty("hostname").GetString());
            Assert.Equal("dv01acc001v01.site.test", seen.GetProperty("fqdn").GetString());

            // Our user replaces the image's default user (no "debian" account), with the key and passwordless sudo.
            var users = seen.GetProperty("users");
            Assert.Equal(new[] { "ops" }, users.EnumerateObject().Select(u => u.Name).ToArray());
            var ops = users.GetProperty("ops");
            Assert.Equal(new[] { OpsKey }, ops.GetProperty("ssh_authorized_keys").EnumerateArray().Select(k => k.GetString()).ToArray());
            Assert.Equal("ALL=(ALL) NOPASSWD:ALL", ops.GetProperty("sudo").GetString());
            Assert.Equal("/bin/bash", ops.GetProperty("shell").GetString());

            RealCloudInit.AssertSeededHostKey(_dir, seen, spec.FirstBootHostKey);

            var nic = seen.GetProperty("network").GetProperty("interfaces").EnumerateArray().Single();
            Assert.Equal("02:de:77:00:02:bd", nic.GetProperty("mac_address").GetString());
            var subnet = nic.GetProperty("subnets").EnumerateArray().Single();
            Assert.Equal("static", subnet.GetProperty("type").GetString());
            Assert.Equal("10.20.25.22", subnet.GetProperty("address").GetString());
            Assert.Equal(24, subnet.GetProperty("prefix").GetInt32());
            Assert.Equal(new[] { "10.20.25.2", "10.20.25.3" }, subnet.GetProperty("dns_nameservers").EnumerateArray().Select(a => a.GetString()).ToArray());
            Assert.Equal(new[] { "site.test" }, subnet.GetProperty("dns_search").EnumerateArray().Select(a => a.GetString()).ToArray());
            var route = subnet.GetProperty("routes").EnumerateArray().Single();
            Assert.Equal("0.0.0.0", route.GetProperty("network").GetString());
            Assert.Equal(0, route.GetProperty("prefix").GetInt32());
            Assert.Equal("10.20.25.1", route.GetProperty("gateway").GetString());
        }

        [Fact]
        public void NoCloud_datasource_reads_dhcp_and_a_user_without_keys_and_leaves_host_keys_to_the_image()
        {
            var seen = LoadSeed(DhcpSpec());
            Assert.Equal("dv01web001v01", seen.GetProperty("hostname").GetString());
            Assert.Equal("dv01web001v01.site.test", seen.GetProperty("fqdn").GetString());
            var deploy = seen.GetProperty("users").GetProperty("deploy");
            Assert.False(deploy.TryGetProperty("ssh_authorized_keys", out _));
            Assert.Empty(seen.GetProperty("host_keys").EnumerateObject());
            var nic = seen.GetProperty("network").GetProperty("interfaces").EnumerateArray().Single();
            Assert.Equal("02:de:77:00:02:be", nic.GetProperty("mac_address").GetString());
            Assert.Equal("dhcp4", nic.GetProperty("subnets").EnumerateArray().Single().GetProperty("type").GetString());
        }

        /// <summary>The seed's three files as the libvirt back end puts them on the cidata ISO, loaded through cloud-init.</summary>
        private JsonElement LoadSeed(VmSpec spec) =>
            RealCloudInit.LoadSeed(_dir, CloudInitSeed.UserData(spec), CloudInitSeed.MetaData(spec), CloudInitSeed.NetworkConfig(spec));
    }
}
