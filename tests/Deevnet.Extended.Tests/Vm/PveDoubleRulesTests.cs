using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The PVE double on its own: each rule it takes from upstream (PVE 9.2, cited in <see cref="PveRules"/> and
    /// <see cref="PveDouble"/>) shown with one call it accepts and one it refuses, over plain HTTP calls, so a looser
    /// double cannot hide a module bug.
    /// </summary>
    public sealed class PveDoubleRulesTests : IDisposable
    {
        private const string Config = "/nodes/pve1/qemu/301/config";
        private const string Mac = "02:DE:20:00:01:2D";
        private readonly PveDouble _pve = new PveDouble();
        private readonly HttpClient _http;

        public PveDoubleRulesTests()
        {
            _pve.AddTemplate(9000, "fedora-server-44-1.10");
            _pve.AddVm(301, new Dictionary<string, string> { ["name"] = "vm301", ["cores"] = "1", ["net0"] = "virtio=BC:24:11:00:00:01,bridge=vmbr0",
                ["scsi0"] = "local-lvm:vm-301-disk-0,size=32G", ["ide2"] = "local-lvm:vm-301-cloudinit,media=cdrom" });
            var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert!.Thumbprint == _pve.Certificate.Thumbprint };
            _http = new HttpClient(handler) { BaseAddress = new Uri(_pve.Endpoint) };
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", $"PVEAPIToken={PveDouble.TokenId}={PveDouble.Secret}");
        }

        public void Dispose()
        {
            _http.Dispose();
            _pve.Dispose();
        }

        [Theory]
        [InlineData("tag=4094", true)]
        [InlineData("tag=1", true)]
        [InlineData("tag=4095", false)] // Network.pm $net_fmt tag: maximum 4094
        [InlineData("tag=0", false)] // … minimum 1
        [InlineData("firewall=1", true)]
        [InlineData("speed=10", false)] // not a key of $net_fmt
        public async Task Net0_keys_follow_the_net_format(string extra, bool accepted) =>
            await AssertConfig("net0", $"virtio={Mac},bridge=vmbr0,{extra}", accepted);

        [Theory]
        [InlineData("user=local:snippets/u.yaml", true)]
        [InlineData("user=local:snippets/u.yaml,network=nfs-1:snippets/n.yaml", true)]
        [InlineData("user=local:iso/u.yaml", true)] // any volume id here: "not in the snippets directory" only when the drive is built
        [InlineData("user=local", false)] // Plugin.pm parse_volume_id: storage ':' name
        [InlineData("user=1local:snippets/u.yaml", false)] // … a storage id starts with a letter
        [InlineData("users=local:snippets/u.yaml", false)] // $cicustom_fmt: meta, network, user, vendor only
        [InlineData("user=local:snippets/a,user=local:snippets/b", false)] // parse_property_string: duplicate key
        [InlineData("local:snippets/u.yaml", false)] // … no default key
        public async Task Cicustom_follows_the_cicustom_format(string value, bool accepted) =>
            await AssertConfig("cicustom", value, accepted);

        [Theory]
        [InlineData("02:DE:20:00:01:2D", true)]
        [InlineData("BC:24:11:00:00:01", true)]
        [InlineData("03:DE:20:00:01:2D", false)] // JSONSchema.pm pve_verify_mac_addr: I/G bit set = multicast
        [InlineData("02:DE:20:00:01", false)]
        public async Task Net0_mac_must_be_unicast(string mac, bool accepted) =>
            await AssertConfig("net0", $"virtio={mac},bridge=vmbr0", accepted);

        [Theory]
        [InlineData("ip=10.20.25.22/24,gw=10.20.25.1", true)]
        [InlineData("ip=dhcp", true)]
        [InlineData("ip=10.20.25.22", false)] // pve_verify_ipv4_config: a CIDR, dhcp or manual
        [InlineData("ip=10.20.25.22/24,gw=10.20.25", false)]
        public async Task Ipconfig0_follows_the_ipconfig_format(string value, bool accepted) =>
            await AssertConfig("ipconfig0", value, accepted);

        [Fact]
        public async Task Sshkeys_must_be_url_encoded_and_valid_keys()
        {
            await AssertConfig("sshkeys", Uri.EscapeDataString(ProxmoxFixture.SshKey), true);
            var raw = await Send(HttpMethod.Post, Config, ("sshkeys", ProxmoxFixture.SshKey)); // pve_verify_urlencoded
            Assert.Equal(400, raw.Status);
            Assert.StartsWith("invalid urlencoded string", raw.Errors["sshkeys"]);
            await AssertConfig("sshkeys", Uri.EscapeDataString("not a key"), false); // Tools.pm validate_ssh_public_keys
        }

        [Theory]
        [InlineData("dv20obs001v01", true)]
        [InlineData("web.t.deevnet.test", true)]
        [InlineData("bad_name", false)] // JSONSchema.pm pve_verify_dns_name
        [InlineData("-lead", false)]
        public async Task Clone_name_must_be_a_dns_name(string name, bool accepted)
        {
            var answer = await Send(HttpMethod.Post, "/nodes/pve1/qemu/9000/clone", ("newid", "302"), ("name", name), ("full", "1"));
            Assert.Equal(accepted ? 200 : 400, answer.Status);
            if (!accepted) Assert.Equal("value does not look like a valid DNS name", answer.Errors["name"]);
        }

        [Fact]
        public async Task Unknown_parameters_get_400_with_an_errors_object()
        {
            await AssertConfig("cores", "2", true);
            var answer = await Send(HttpMethod.Post, Config, ("update_unsafe", "1"), ("cores", "x"));
            Assert.Equal(400, answer.Status);
            Assert.Equal(new[] { "cores", "update_unsafe" }, answer.Errors.Keys.OrderBy(k => k));
            Assert.Null(answer.Data);
        }

        [Fact]
        public async Task A_task_with_warnings_is_stopped_with_WARNINGS_and_its_effect_is_kept()
        {
            _pve.FailingTasks["qmconfig"] = ("WARNINGS: 1", new[] { "WARN: something odd", "TASK WARNINGS: 1" });
            var ok = await Send(HttpMethod.Post, Config, ("cores", "2"));
            Assert.Equal("WARNINGS: 1", await ExitStatus(ok.Data!.GetValue<string>()));
            Assert.Equal("2", _pve.Vms[301]["cores"]); // UPID.pm status_is_error: warnings are success

            _pve.FailingTasks["qmconfig"] = ("unable to apply", new[] { "TASK ERROR: unable to apply" });
            var failed = await Send(HttpMethod.Post, Config, ("cores", "3"));
            Assert.Equal("unable to apply", await ExitStatus(failed.Data!.GetValue<string>()));
            Assert.Equal("2", _pve.Vms[301]["cores"]);
        }

        [Fact]
        public async Task Config_answers_null_with_background_delay_when_the_task_ended_well()
        {
            var async = await Send(HttpMethod.Post, Config, ("cores", "2"));
            Assert.StartsWith("UPID:pve1:", async.Data!.GetValue<string>());
            var waited = await Send(HttpMethod.Post, Config, ("cores", "3"), ("background_delay", "5")); // Qemu.pm $update_vm_api
            Assert.Equal(200, waited.Status);
            Assert.Null(waited.Data);
        }

        [Fact]
        public async Task A_vm_being_cloned_is_locked_until_the_clone_task_ends()
        {
            var clone = await Send(HttpMethod.Post, "/nodes/pve1/qemu/9000/clone", ("newid", "302"), ("name", "vm302"), ("full", "1"));
            var locked = await Send(HttpMethod.Post, "/nodes/pve1/qemu/302/config", ("cores", "2")); // AbstractConfig.pm check_lock
            Assert.Equal(500, locked.Status);
            Assert.Equal("VM is locked (clone)\n", locked.Message);
            Assert.Equal("OK", await ExitStatus(clone.Data!.GetValue<string>()));
            Assert.Equal(200, (await Send(HttpMethod.Post, "/nodes/pve1/qemu/302/config", ("cores", "2"))).Status);
        }

        [Fact]
        public async Task A_write_with_a_stale_digest_is_refused()
        {
            var digest = (await Send(HttpMethod.Get, Config + "?current=1")).Data!["digest"]!.GetValue<string>();
            Assert.Equal(200, (await Send(HttpMethod.Post, Config, ("cores", "2"), ("digest", digest))).Status);
            var stale = await Send(HttpMethod.Post, Config, ("cores", "3"), ("digest", digest)); // Qemu.pm $load_and_check_config
            Assert.Equal(500, stale.Status);
            Assert.Equal("checksum mismatch (file change by other user?)\n", stale.Message);
            Assert.Equal("2", _pve.Vms[301]["cores"]);
        }

        [Fact]
        public async Task On_a_running_vm_cores_and_a_new_mac_without_hotplug_stay_pending()
        {
            _pve.Status[301] = "running";
            _pve.Vms[301]["hotplug"] = "0";
            await Send(HttpMethod.Post, Config, ("cores", "2"), ("net0", $"virtio={Mac},bridge=vmbr0"), ("onboot", "1"));
            Assert.Equal("2", (await Send(HttpMethod.Get, Config)).Data!["cores"]!.GetValue<string>()); // vm_config: pending applied
            Assert.Equal("1", (await Send(HttpMethod.Get, Config + "?current=1")).Data!["cores"]!.GetValue<string>());
            var pending = (await Send(HttpMethod.Get, "/nodes/pve1/qemu/301/pending")).Data!.AsArray();
            Assert.Equal(new[] { "cores", "net0" }, pending.Where(p => p!["pending"] != null).Select(p => p!["key"]!.GetValue<string>()));
            Assert.Equal("1", _pve.Vms[301]["onboot"]); // fast-plug option: in effect at once
            await Send(HttpMethod.Post, "/nodes/pve1/qemu/301/status/reboot");
            Assert.Equal("2", _pve.Vms[301]["cores"]);
        }

        [Fact]
        public async Task Cloudinit_lists_changed_ci_options_but_not_ipconfig()
        {
            _pve.Vms[301]["ciuser"] = "old";
            _pve.Vms[301]["ipconfig0"] = "ip=dhcp";
            _pve.Status[301] = "running";
            await Send(HttpMethod.Post, Config, ("ciuser", "new"), ("ipconfig0", "ip=10.0.0.5/24"));
            var items = (await Send(HttpMethod.Get, "/nodes/pve1/qemu/301/cloudinit")).Data!.AsArray();
            var ciuser = items.Single(i => i!["key"]!.GetValue<string>() == "ciuser")!;
            Assert.Equal("old", ciuser["value"]!.GetValue<string>());
            Assert.Equal("new", ciuser["pending"]!.GetValue<string>());
            Assert.DoesNotContain(items, i => i!["key"]!.GetValue<string>() == "ipconfig0"); // Qemu.pm cloudinit_pending loops $cloudinitoptions only
        }

        [Fact]
        public async Task Nextid_refuses_a_used_vmid_even_when_resources_hides_it()
        {
            _pve.OtherGuests.Add((555, "lxc", "pve2", "hidden", false));
            Assert.Equal("556", (await Send(HttpMethod.Get, "/cluster/nextid?vmid=556")).Data!.GetValue<string>());
            var used = await Send(HttpMethod.Get, "/cluster/nextid?vmid=555"); // Cluster.pm nextid: raise_param_exc
            Assert.Equal(400, used.Status);
            Assert.Equal("VM 555 already exists", used.Errors["vmid"]);
            var resources = (await Send(HttpMethod.Get, "/cluster/resources?type=vm")).Data!.AsArray();
            Assert.DoesNotContain(resources, r => r!["vmid"]!.GetValue<int>() == 555); // Cluster.pm resources: VM.Audit filter
            Assert.Contains(resources, r => r!["id"]!.GetValue<string>() == "qemu/301");
            Assert.Equal(400, (await Send(HttpMethod.Get, "/cluster/resources?type=vms")).Status);
        }

        [Fact]
        public async Task Reboot_needs_a_running_vm()
        {
            var stopped = await Send(HttpMethod.Post, "/nodes/pve1/qemu/301/status/reboot"); // Qemu.pm vm_reboot
            Assert.Equal(500, stopped.Status);
            Assert.Equal("VM 301 not running\n", stopped.Message);
            _pve.Status[301] = "running";
            Assert.Equal(200, (await Send(HttpMethod.Post, "/nodes/pve1/qemu/301/status/reboot")).Status);
        }

        private async Task AssertConfig(string key, string value, bool accepted)
        {
            var answer = await Send(HttpMethod.Post, Config, (key, value));
            Assert.True(accepted == (answer.Status == 200), $"{key}={value}: HTTP {answer.Status} {string.Join("; ", answer.Errors.Select(e => e.Key + ": " + e.Value))}");
            if (!accepted) Assert.True(answer.Errors.ContainsKey(key));
        }

        private async Task<string?> ExitStatus(string upid)
        {
            for (var i = 0; i < 5; i++)
            {
                var status = (await Send(HttpMethod.Get, $"/nodes/pve1/tasks/{Uri.EscapeDataString(upid)}/status")).Data!;
                if (status["status"]!.GetValue<string>() == "stopped") return status["exitstatus"]!.GetValue<string>();
            }
            return null;
        }

        private sealed record Answer(int Status, JsonNode? Data, Dictionary<string, string> Errors, string? Message);

        private async Task<Answer> Send(HttpMethod method, string path, params (string Key, string Value)[] form)
        {
            using var request = new HttpRequestMessage(method, "/api2/json" + path);
            if (form.Length > 0) request.Content = new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)));
            using var response = await _http.SendAsync(request);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
            var errors = body["errors"]?.AsObject().ToDictionary(e => e.Key, e => e.Value!.GetValue<string>()) ?? new Dictionary<string, string>();
            return new Answer((int)response.StatusCode, body["data"]?.DeepClone(), errors, body["message"]?.GetValue<string>());
        }
    }
}
