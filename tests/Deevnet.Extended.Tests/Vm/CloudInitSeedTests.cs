using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Core.Vm.Libvirt;
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
            foreach (var (name, userData) in new[] { ("keyed", CloudInitSeed.UserData(keyed)), ("plain", CloudInitSeed.UserData(DhcpSpec())) })
            {
                var file = Path.Combine(_dir, name + "-user-data");
                File.WriteAllText(file, userData);
                var (code, output) = Run("cloud-init", "schema", "--config-file", file);
                Assert.True(code == 0, $"cloud-init schema rejected the {name} user-data:\n{output}\n{userData}");
                Assert.Contains("Valid cloud-config", output);
            }
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

            // cc_ssh deletes the image's host keys and writes exactly the seeded pair; nothing is skipped as unknown.
            Assert.True(seen.GetProperty("ssh_deletekeys").GetBoolean());
            Assert.Empty(seen.GetProperty("ignored_ssh_keys").EnumerateArray());
            var hostKeys = seen.GetProperty("host_keys");
            Assert.Equal(new[] { "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub" },
                hostKeys.EnumerateObject().Select(k => k.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray());
            var privateFile = Path.Combine(_dir, "host_key");
            File.WriteAllText(privateFile, hostKeys.GetProperty("/etc/ssh/ssh_host_ed25519_key").GetString());
            Transport.TestShell.Run("chmod", "600", privateFile);
            // The private key cloud-init writes is the one whose public half the module recorded as the first-boot key.
            var derived = Transport.TestShell.Run("ssh-keygen", "-y", "-f", privateFile).Trim().Split(' ');
            Assert.Equal(spec.FirstBootHostKey.PublicKey.Base64, derived[1]);
            Assert.Equal(spec.FirstBootHostKey.PublicKeyLine, hostKeys.GetProperty("/etc/ssh/ssh_host_ed25519_key.pub").GetString());

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

        /// <summary>Writes the seed's three files as the libvirt back end puts them on the cidata ISO and loads them through cloud-init.</summary>
        private JsonElement LoadSeed(VmSpec spec)
        {
            var seed = Path.Combine(_dir, "seed");
            var work = Path.Combine(_dir, "work");
            Directory.CreateDirectory(seed);
            Directory.CreateDirectory(work);
            File.WriteAllText(Path.Combine(seed, "user-data"), CloudInitSeed.UserData(spec));
            File.WriteAllText(Path.Combine(seed, "meta-data"), CloudInitSeed.MetaData(spec));
            File.WriteAllText(Path.Combine(seed, "network-config"), CloudInitSeed.NetworkConfig(spec));
            var (code, output) = Run(SystemPython, ReaderScript, seed, work);
            Assert.True(code == 0, $"cloud-init could not load the seed:\n{output}");
            return JsonDocument.Parse(output).RootElement.Clone();
        }

        /// <summary>Debian's python3, where python3-cloud-init lives (a python3 earlier on PATH, e.g. pyenv, lacks it).</summary>
        private const string SystemPython = "/usr/bin/python3";

        private static string ReaderScript
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Deevnet.Extended.sln"))) dir = dir.Parent;
                return Path.Combine(dir!.FullName, "tests", "cloud-init", "read_nocloud_seed.py");
            }
        }

        /// <summary>Runs a program; a missing program (cloud-init not installed) throws, failing the test.</summary>
        private static (int Code, string Output) Run(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, p.ExitCode == 0 ? stdout : stdout + stderr.Result);
        }
    }
}
