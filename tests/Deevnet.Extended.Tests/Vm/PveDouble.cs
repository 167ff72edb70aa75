using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deevnet.Extended.Tests.Doubles;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// A stand-in for one PVE 9.2 node's API (and the cluster calls the module makes) on 127.0.0.1 over TLS with a
    /// self-signed certificate. It is as strict as upstream for every call the module makes, each rule naming the
    /// upstream function it mirrors (formats in <see cref="PveRules"/>): 400 with per-parameter <c>errors</c> for unknown
    /// parameters and malformed values, 401 without the right API token, 500 with the message of a <c>die</c>
    /// (digest mismatch, a locked VM), task exit statuses <c>OK</c>, <c>WARNINGS: N</c> or an error, pending values on a
    /// running VM, the clone lock, null data where upstream returns null. Every call is recorded in order.
    /// </summary>
    public sealed class PveDouble : IDisposable
    {
        public const string Node = "pve1";
        public const string TokenId = "deev@pve!tier";
        public const string Secret = "0d6b7c1e-5a8f-4c1b-9e2d-3f4a5b6c7d8e";

        private readonly LoopbackHttpServer _server;
        private readonly object _gate = new object();
        private int _taskCounter;

        public PveDouble()
        {
            Certificate = SharedCertificate.Value;
            _server = new LoopbackHttpServer(Serve, Certificate, "application/json;charset=UTF-8");
        }

        // One key pair for every double: RSA generation is the slow part of a test.
        private static readonly Lazy<X509Certificate2> SharedCertificate = new Lazy<X509Certificate2>(MakeCertificate);

        public X509Certificate2 Certificate { get; }
        public string Endpoint => _server.Endpoint;
        public string Fingerprint => string.Join(":", SHA256.HashData(Certificate.RawData).Select(b => b.ToString("X2")));

        /// <summary>VMs and templates by VMID; each has a config like PVE's current one (<c>name</c>, <c>template</c>, disks, …) and a status.</summary>
        public Dictionary<int, Dictionary<string, string>> Vms { get; } = new Dictionary<int, Dictionary<string, string>>();
        public Dictionary<int, string> Status { get; } = new Dictionary<int, string>();

        /// <summary>The [PENDING] section of each VM's config: values a running VM could not take at once.</summary>
        public Dictionary<int, Dictionary<string, string>> Pending { get; } = new Dictionary<int, Dictionary<string, string>>();

        /// <summary>
        /// The [special:cloudinit] section: per VM, cloud-init keys changed since the drive was made, with the value the
        /// drive holds (null: added since). qemu-server QemuServer.pm vmconfig_hotplug_pending ($cloudinit_record_changed).
        /// </summary>
        public Dictionary<int, Dictionary<string, string?>> CloudInitStale { get; } = new Dictionary<int, Dictionary<string, string?>>();

        /// <summary>Guests on other nodes (qemu or lxc); <c>Visible</c> false ones lack VM.Audit for the token.</summary>
        public List<(int VmId, string Type, string Node, string Name, bool Visible)> OtherGuests { get; } = new List<(int, string, string, string, bool)>();

        /// <summary>Every request in order: <c>POST /nodes/pve1/qemu/9000/clone full=1&amp;name=…&amp;newid=301</c> (parameters sorted).</summary>
        public ConcurrentQueue<string> Calls { get; } = new ConcurrentQueue<string>();

        /// <summary>The calls that change something (not GET), in order.</summary>
        public List<string> Changes => Calls.Where(c => !c.StartsWith("GET ", StringComparison.Ordinal)).ToList();

        /// <summary>Tasks whose UPID contains the key (the task type, e.g. <c>qmclone</c>) end with this exit status and log.</summary>
        public Dictionary<string, (string Exit, string[] Log)> FailingTasks { get; } = new Dictionary<string, (string, string[])>();

        /// <summary>Run once before the next config write is handled (a concurrent edit by someone else).</summary>
        public Action? BeforeNextConfigWrite { get; set; }

        private readonly Dictionary<string, (string Exit, string[] Log, int PollsLeft)> _tasks = new Dictionary<string, (string, string[], int)>();
        private readonly Dictionary<string, Action> _onTaskEnd = new Dictionary<string, Action>();

        public void AddTemplate(int vmid, string name, string size = "32G", bool cloudInit = true)
        {
            Vms[vmid] = new Dictionary<string, string> { ["name"] = name, ["template"] = "1", ["cores"] = "1", ["memory"] = "2048",
                ["scsi0"] = $"local-lvm:base-{vmid}-disk-0,size={size}", ["boot"] = "order=scsi0;ide2;net0",
                ["net0"] = "virtio=BC:24:11:00:00:01,bridge=vmbr0" };
            if (cloudInit) Vms[vmid]["ide2"] = $"local-lvm:vm-{vmid}-cloudinit,media=cdrom";
        }

        public void AddVm(int vmid, Dictionary<string, string> config, string status = "stopped")
        {
            Vms[vmid] = config;
            Status[vmid] = status;
        }

        /// <summary>
        /// The config digest: upstream's is the SHA1 of the config file (pve-cluster cfs_read_file → PVE::QemuServer
        /// parse_vm_config), which holds the pending section too; any change of either changes it.
        /// </summary>
        public string Digest(int vmid)
        {
            var text = string.Join("\n", Vms[vmid].OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ": " + kv.Value))
                + "\n[PENDING]\n" + string.Join("\n", Pending.GetValueOrDefault(vmid, new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + ": " + kv.Value));
            return Convert.ToHexString(SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
        }

        private HttpResponse Serve(HttpRequest request)
        {
            var (status, body) = Handle(request.Method, Uri.UnescapeDataString(request.Path), ParseForm(request.Query), ParseForm(request.BodyText), request.Header("Authorization"));
            return new HttpResponse(status, body, Reason(status));
        }

        private static string Reason(int status) => status switch { 200 => "OK", 400 => "Parameter verification failed.", 401 => "authentication failure", 404 => "Not Found", _ => "Internal Server Error" };

        private static Dictionary<string, string> ParseForm(string text) =>
            text.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2))
                .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");

        private (int, string) Handle(string method, string path, Dictionary<string, string> query, Dictionary<string, string> form, string? auth)
        {
            var all = method == "GET" || method == "DELETE" ? query : form;
            Calls.Enqueue($"{method} {path.Replace("/api2/json", "")} {string.Join("&", all.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value))}".TrimEnd());
            if (auth != $"PVEAPIToken={TokenId}={Secret}") return (401, "{\"data\":null}");
            lock (_gate)
            {
                if (path.StartsWith("/api2/json/cluster/", StringComparison.Ordinal)) return Cluster(method, path["/api2/json/cluster/".Length..], query);
                if (!path.StartsWith($"/api2/json/nodes/{Node}/", StringComparison.Ordinal)) return (404, "{\"data\":null}");
                var rest = path[$"/api2/json/nodes/{Node}/".Length..].Split('/');
                if (rest[0] == "tasks" && rest.Length == 3) return TaskCall(rest[1], rest[2]);
                if (rest[0] != "qemu") return (404, "{\"data\":null}");
                if (rest.Length == 1 && method == "GET") return Ok(Vms.Select(kv => new Dictionary<string, object?>
                {
                    ["vmid"] = kv.Key, ["name"] = kv.Value.GetValueOrDefault("name"), ["status"] = Status.GetValueOrDefault(kv.Key, "stopped"),
                    ["template"] = kv.Value.GetValueOrDefault("template") == "1" ? 1 : null,
                }.Where(p => p.Value != null).ToDictionary(p => p.Key, p => p.Value)).ToList());
                // pve-common JSONSchema.pm 'pve-vmid': integer 100..999999999.
                if (!int.TryParse(rest.ElementAtOrDefault(1), out var vmid) || vmid < 100) return Bad("vmid", "type check ('integer') failed");
                // PVE::AbstractConfig load_config: "Configuration file '…' does not exist" (die → 500).
                if (!Vms.TryGetValue(vmid, out var vm)) return Die($"Configuration file 'nodes/{Node}/qemu-server/{vmid}.conf' does not exist");
                var op = string.Join("/", rest.Skip(2));
                switch (method + " " + op)
                {
                    case "GET config": return GetConfig(vmid, query);
                    case "GET pending": return GetPending(vmid);
                    case "GET cloudinit": return GetCloudInit(vmid);
                    case "POST config": return Config(vmid, vm, form);
                    case "POST clone": return Clone(vmid, vm, form);
                    case "PUT resize": return Resize(vmid, vm, form);
                    case "POST status/start": return Power(vmid, form, "running", "qmstart");
                    case "POST status/stop": return Power(vmid, form, "stopped", "qmstop");
                    case "POST status/shutdown": return Power(vmid, form, "stopped", "qmshutdown");
                    case "POST status/reboot": return Power(vmid, form, "running", "qmreboot");
                    case "DELETE ": return Destroy(vmid, query);
                    default: return (501, "{\"data\":null,\"message\":\"Method not implemented\"}");
                }
            }
        }

        private (int, string) Cluster(string method, string what, Dictionary<string, string> query)
        {
            if (method != "GET") return (501, "{\"data\":null,\"message\":\"Method not implemented\"}");
            if (what == "resources")
            {
                // pve-manager PVE/API2/Cluster.pm resources: type enum [vm, storage, node, sdn]; guests of every node,
                // qemu and lxc, but only those the user may audit ("next if !$rpcenv->check(… VM.Audit …)").
                var unknown = query.Keys.Where(k => k != "type").ToList();
                if (unknown.Count > 0) return Bad(unknown[0], "property is not defined in schema and the schema does not allow additional properties");
                if (query.TryGetValue("type", out var type) && !new[] { "vm", "storage", "node", "sdn" }.Contains(type)) return Bad("type", "value '" + type + "' does not have a value in the enumeration 'vm, storage, node, sdn'");
                var local = Vms.Select(kv => new Dictionary<string, object?>
                {
                    ["id"] = $"qemu/{kv.Key}", ["type"] = "qemu", ["vmid"] = kv.Key, ["node"] = Node, ["name"] = kv.Value.GetValueOrDefault("name"),
                    ["status"] = Status.GetValueOrDefault(kv.Key, "stopped"), ["template"] = kv.Value.GetValueOrDefault("template") == "1" ? 1 : 0,
                });
                var others = OtherGuests.Where(g => g.Visible).Select(g => new Dictionary<string, object?>
                {
                    ["id"] = $"{g.Type}/{g.VmId}", ["type"] = g.Type, ["vmid"] = g.VmId, ["node"] = g.Node, ["name"] = g.Name, ["status"] = "running", ["template"] = 0,
                });
                return Ok(local.Concat(others).ToList());
            }
            if (what == "nextid")
            {
                // pve-manager PVE/API2/Cluster.pm nextid: permissions "user => all"; the whole VM list, not filtered;
                // a used VMID is a parameter exception (400) "VM N already exists".
                var unknown = query.Keys.Where(k => k != "vmid").ToList();
                if (unknown.Count > 0) return Bad(unknown[0], "property is not defined in schema and the schema does not allow additional properties");
                var used = Vms.Keys.Concat(OtherGuests.Select(g => g.VmId)).ToHashSet();
                if (query.TryGetValue("vmid", out var text))
                {
                    if (!int.TryParse(text, out var id) || id < 100 || id > 999999999) return Bad("vmid", "type check ('integer') failed");
                    return used.Contains(id) ? Bad("vmid", $"VM {id} already exists") : Ok(text);
                }
                var next = 100;
                while (used.Contains(next)) next++;
                return Ok(next.ToString());
            }
            return (404, "{\"data\":null}");
        }

        /// <summary>qemu-server API2/Qemu.pm vm_config: pending values applied unless current=1; the digest is added.</summary>
        private (int, string) GetConfig(int vmid, Dictionary<string, string> query)
        {
            var unknown = query.Keys.Where(k => k != "current" && k != "snapshot").ToList();
            if (unknown.Count > 0) return Bad(unknown[0], "property is not defined in schema and the schema does not allow additional properties");
            if (query.TryGetValue("current", out var current) && PveRules.Boolean(current) != null) return Bad("current", "type check ('boolean') failed");
            var conf = new Dictionary<string, string>(Vms[vmid]);
            if (current != "1") foreach (var (k, v) in Pending.GetValueOrDefault(vmid, new Dictionary<string, string>())) conf[k] = v;
            conf["digest"] = Digest(vmid);
            return Ok(conf);
        }

        /// <summary>qemu-server API2/Qemu.pm vm_pending (PVE::GuestHelpers config_with_pending_array): key, value, pending.</summary>
        private (int, string) GetPending(int vmid)
        {
            var pending = Pending.GetValueOrDefault(vmid, new Dictionary<string, string>());
            var keys = Vms[vmid].Keys.Concat(pending.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal);
            return Ok(keys.Select(k =>
            {
                var item = new Dictionary<string, object> { ["key"] = k };
                if (Vms[vmid].TryGetValue(k, out var v)) item["value"] = v;
                if (pending.TryGetValue(k, out var p)) item["pending"] = p;
                return item;
            }).ToList());
        }

        /// <summary>
        /// qemu-server API2/Qemu.pm cloudinit_pending, as upstream builds it: keys added since the drive was made (pending
        /// only), then the $cloudinitoptions keys (ci*, nameserver, searchdomain, sshkeys — not ipconfigN or netN) with
        /// value = on the drive and pending = in the config when they changed, then deleted keys.
        /// </summary>
        private (int, string) GetCloudInit(int vmid)
        {
            var stale = CloudInitStale.GetValueOrDefault(vmid, new Dictionary<string, string?>());
            var conf = Vms[vmid];
            var result = new List<Dictionary<string, object>>();
            var added = stale.Where(kv => kv.Value == null).Select(kv => kv.Key).ToList();
            foreach (var key in added) result.Add(new Dictionary<string, object> { ["key"] = key, ["pending"] = conf.GetValueOrDefault(key) ?? "" });
            foreach (var key in new[] { "cicustom", "cipassword", "citype", "ciuser", "ciupgrade", "nameserver", "searchdomain", "sshkeys" })
            {
                if (!conf.TryGetValue(key, out var value) || added.Contains(key)) continue;
                var item = new Dictionary<string, object> { ["key"] = key };
                if (stale.TryGetValue(key, out var old) && old != null) { item["value"] = old; item["pending"] = value; }
                else item["value"] = value;
                result.Add(item);
            }
            foreach (var key in stale.Keys.Where(k => !conf.ContainsKey(k))) result.Add(new Dictionary<string, object> { ["key"] = key, ["delete"] = 1 });
            return Ok(result);
        }

        /// <summary>
        /// qemu-server API2/Qemu.pm update_vm_async → $update_vm_api: formats are checked first (400); before forking,
        /// $load_and_check_config dies (500) on a digest mismatch ("checksum mismatch (file change by other user?)") and
        /// on a lock (pve-guest-common PVE/AbstractConfig.pm check_lock: "VM is locked (clone)"). A stopped VM takes
        /// every value (vmconfig_apply_pending); a running one takes fast-plug options, new disks and, with network
        /// hot-plug (the default, parse_hotplug_features('1')), a changed NIC, and keeps the rest pending
        /// (vmconfig_hotplug_pending). With background_delay a task that ended well answers null.
        /// </summary>
        private (int, string) Config(int vmid, Dictionary<string, string> vm, Dictionary<string, string> form)
        {
            var errors = PveRules.CheckConfig(form);
            if (errors.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors }));
            var edit = BeforeNextConfigWrite;
            BeforeNextConfigWrite = null;
            edit?.Invoke();
            // PVE::Tools::assert_if_modified / $load_and_check_config: only a non-empty digest is compared.
            if (form.TryGetValue("digest", out var digest) && digest.Length > 0 && digest != Digest(vmid)) return Die("checksum mismatch (file change by other user?)");
            if (vm.TryGetValue("lock", out var lockName)) return Die($"VM is locked ({lockName})");
            var upid = Upid(vmid, "qmconfig");
            if (!IsFailing(upid))
            {
                var running = Status.GetValueOrDefault(vmid) == "running";
                var hotplug = vm.GetValueOrDefault("hotplug", "network,disk,usb");
                foreach (var (key, raw) in form.Where(kv => kv.Key != "digest" && kv.Key != "background_delay"))
                {
                    var value = Stored(vmid, vm, key, raw);
                    var now = !running || PveRules.FastPlug(key) || (key.StartsWith("scsi", StringComparison.Ordinal) && hotplug.Contains("disk"))
                        || (key.StartsWith("net", StringComparison.Ordinal) && (hotplug == "1" || hotplug.Contains("network")));
                    if (!now) { Pendings(vmid)[key] = value; continue; }
                    if (running && PveRules.CloudInitPending(key) && vm.GetValueOrDefault(key) != value)
                    {
                        var stale = CloudInitStale.TryGetValue(vmid, out var st) ? st : CloudInitStale[vmid] = new Dictionary<string, string?>();
                        if (!stale.ContainsKey(key)) stale[key] = vm.GetValueOrDefault(key);
                    }
                    vm[key] = value;
                }
            }
            if (form.ContainsKey("background_delay") && !IsFailing(upid)) return Ok(null);
            return upid;
        }

        private Dictionary<string, string> Pendings(int vmid) => Pending.TryGetValue(vmid, out var p) ? p : Pending[vmid] = new Dictionary<string, string>();

        /// <summary>How PVE stores a value: a new disk becomes a volume with its size, MACs are upper-cased (QemuServer/Network.pm print_net).</summary>
        private static string Stored(int vmid, Dictionary<string, string> vm, string key, string value)
        {
            if (Regex.IsMatch(key, "^scsi\\d+$"))
            {
                var m = Regex.Match(value, "^([a-z][a-z0-9-]*):(\\d+)(,serial=(.*))?$");
                return $"{m.Groups[1].Value}:vm-{vmid}-disk-{vm.Keys.Count(k => k.StartsWith("scsi"))},size={m.Groups[2].Value}G" + (m.Groups[4].Success ? ",serial=" + m.Groups[4].Value : "");
            }
            return key == "net0" ? Regex.Replace(value, "=([0-9A-Fa-f:]{17})", m => "=" + m.Groups[1].Value.ToUpperInvariant()) : value;
        }

        /// <summary>
        /// qemu-server API2/Qemu.pm clone_vm: newid must be free in the whole cluster ("unable to create VM N: config
        /// file already exists"); the new VM's config holds "lock: clone" until the clone task ends.
        /// </summary>
        private (int, string) Clone(int vmid, Dictionary<string, string> template, Dictionary<string, string> form)
        {
            var allowed = new[] { "newid", "name", "full", "storage", "target", "description", "pool", "snapname", "format", "bwlimit" };
            var errors = form.Keys.Where(k => !allowed.Contains(k)).ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties");
            if (!form.TryGetValue("newid", out var nid) || !int.TryParse(nid, out var newid) || newid < 100) errors["newid"] = "property is missing and it is not optional";
            else if (Vms.ContainsKey(newid) || OtherGuests.Any(g => g.VmId == newid)) return Die($"unable to create VM {newid}: config file already exists");
            if (form.TryGetValue("name", out var name) && PveRules.Name(name) is { } why) errors["name"] = why;
            if (form.TryGetValue("full", out var full) && PveRules.Boolean(full) != null) errors["full"] = "type check ('boolean') failed";
            if (errors.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors }));
            newid = int.Parse(nid!);
            var upid = Upid(newid, "qmclone");
            if (!IsFailing(upid))
            {
                var copy = template.Where(kv => kv.Key != "template").ToDictionary(kv => kv.Key, kv => kv.Value.Replace($"base-{vmid}-", $"vm-{newid}-").Replace($"vm-{vmid}-", $"vm-{newid}-"));
                copy["name"] = name ?? $"Copy-of-VM-{template["name"]}";
                copy["net0"] = "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0";
                copy["lock"] = "clone";
                AddVm(newid, copy);
                _onTaskEnd[Key(upid)] = () => copy.Remove("lock");
            }
            return upid;
        }

        /// <summary>
        /// qemu-server API2/Qemu.pm resize_vm: always a 'resize' task; inside it the digest and lock are checked
        /// (so a mismatch fails the task) and shrinking is refused.
        /// </summary>
        private (int, string) Resize(int vmid, Dictionary<string, string> vm, Dictionary<string, string> form)
        {
            var errors = form.Keys.Where(k => k != "disk" && k != "size" && k != "digest" && k != "skiplock").ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties");
            if (!form.TryGetValue("disk", out var disk) || !Regex.IsMatch(disk, "^(ide|sata|scsi|virtio)\\d+$")) errors["disk"] = "value is not a valid disk";
            if (!form.TryGetValue("size", out var size) || !Regex.IsMatch(size, "^\\+?\\d+(\\.\\d+)?[KMGT]?$")) errors["size"] = "value does not match the regex pattern";
            if (form.TryGetValue("digest", out var digest) && digest.Length > 40) errors["digest"] = "value may only be 40 characters long";
            if (errors.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors }));
            var upid = Upid(vmid, "resize");
            if (!string.IsNullOrEmpty(digest) && digest != Digest(vmid)) FailingTasks[Key(upid)] = ("checksum mismatch (file change by other user?)", new[] { "TASK ERROR: checksum mismatch (file change by other user?)" });
            else if (vm.TryGetValue("lock", out var lockName)) FailingTasks[Key(upid)] = ($"VM is locked ({lockName})", new[] { $"TASK ERROR: VM is locked ({lockName})" });
            else
            {
                var current = Regex.Match(vm[disk!], "size=(\\d+)G").Groups[1].Value;
                var wanted = int.Parse(size!.TrimStart('+').TrimEnd('G'));
                if (wanted < int.Parse(current)) FailingTasks[Key(upid)] = ("shrinking disks is not supported", new[] { "TASK ERROR: shrinking disks is not supported" });
                else if (!IsFailing(upid)) vm[disk!] = Regex.Replace(vm[disk!], "size=\\d+G", $"size={wanted}G");
            }
            return upid;
        }

        /// <summary>
        /// qemu-server API2/Qemu.pm vm_start/vm_stop/vm_shutdown/vm_reboot. A start (and a reboot, which needs a running
        /// VM: "VM N not running") applies pending values and makes a fresh cloud-init drive (vm_start →
        /// vmconfig_apply_pending, PVE::QemuServer::Cloudinit generate_cloudinitconfig).
        /// </summary>
        private (int, string) Power(int vmid, Dictionary<string, string> form, string state, string type)
        {
            if (form.Count > 0 && form.Keys.Any(k => k != "timeout" && k != "skiplock" && k != "forceStop"))
                return (400, JsonSerializer.Serialize(new { data = (object?)null, errors = form.Keys.ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties") }));
            if (type == "qmreboot" && Status.GetValueOrDefault(vmid) != "running") return Die($"VM {vmid} not running");
            if (Vms[vmid].TryGetValue("lock", out var lockName)) return Die($"VM is locked ({lockName})");
            var upid = Upid(vmid, type);
            if (!IsFailing(upid))
            {
                Status[vmid] = state;
                if (state == "running")
                {
                    foreach (var (k, v) in Pending.GetValueOrDefault(vmid, new Dictionary<string, string>())) Vms[vmid][k] = v;
                    Pending.Remove(vmid);
                    CloudInitStale.Remove(vmid);
                }
            }
            return upid;
        }

        private (int, string) Destroy(int vmid, Dictionary<string, string> query)
        {
            var bad = query.Keys.Where(k => k != "purge" && k != "destroy-unreferenced-disks" && k != "skiplock").ToList();
            if (bad.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors = bad.ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties") }));
            var upid = Upid(vmid, "qmdestroy");
            if (Status.GetValueOrDefault(vmid) == "running") FailingTasks[Key(upid)] = ($"VM {vmid} is running - destroy failed", new[] { "TASK ERROR: VM is running - destroy failed" });
            else if (!IsFailing(upid)) { Vms.Remove(vmid); Status.Remove(vmid); Pending.Remove(vmid); CloudInitStale.Remove(vmid); }
            return upid;
        }

        private (int, string) Upid(int vmid, string type)
        {
            var upid = $"UPID:{Node}:0000{++_taskCounter:X4}:00ABCDEF:6560{_taskCounter:X4}:{type}:{vmid}:{TokenId}:";
            var failing = FailingTasks.FirstOrDefault(f => upid.Contains(f.Key));
            _tasks[upid] = failing.Key != null ? (failing.Value.Exit, failing.Value.Log, 1) : ("OK", new[] { "TASK OK" }, 1);
            return Ok(upid);
        }

        private bool IsFailing(string response) => _tasks.TryGetValue(JsonDocument.Parse(response).RootElement.GetProperty("data").GetString()!, out var t) && PveRules.TaskFailed(t.Exit);

        private static string Key((int, string) response) => JsonDocument.Parse(response.Item2).RootElement.GetProperty("data").GetString()!;

        private bool IsFailing((int, string) response) => IsFailing(response.Item2);

        /// <summary>
        /// pve-manager PVE/API2/Tasks.pm read_task_status/read_task_log: "running" until the worker ends, then
        /// "stopped" with exitstatus from the log's last line (pve-common UPID.pm read_status: OK, WARNINGS: N, or the error).
        /// </summary>
        private (int, string) TaskCall(string upid, string what)
        {
            if (!_tasks.TryGetValue(upid, out var t)) return Die("no such task");
            if (FailingTasks.TryGetValue(upid, out var late)) t = (late.Exit, late.Log, t.PollsLeft);
            if (what == "log") return Ok(t.Log.Select((l, i) => new { n = i + 1, t = l }).ToList());
            if (t.PollsLeft > 0)
            {
                _tasks[upid] = (t.Exit, t.Log, t.PollsLeft - 1);
                return Ok(new { status = "running", upid, node = Node });
            }
            if (_onTaskEnd.Remove(upid, out var end)) end();
            return Ok(new { status = "stopped", exitstatus = t.Exit, upid, node = Node });
        }

        private static (int, string) Ok(object? data) => (200, JsonSerializer.Serialize(new { data }));

        /// <summary>A parameter exception (pve-common JSONSchema.pm raise_param_exc): 400 with <c>errors</c>.</summary>
        private static (int, string) Bad(string key, string why) => (400, JsonSerializer.Serialize(new { data = (object?)null, errors = new Dictionary<string, string> { [key] = why } }));

        /// <summary>A plain die in the API code: 500 with the message (pve-http-server PVE/APIServer/AnyEvent.pm).</summary>
        private static (int, string) Die(string message) => (500, JsonSerializer.Serialize(new { data = (object?)null, message = message + "\n" }));

        private static X509Certificate2 MakeCertificate()
        {
            using var rsa = RSA.Create(2048);
            var request = new CertificateRequest("CN=pve1.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
        }

        public void Dispose() => _server.Dispose();
    }
}
