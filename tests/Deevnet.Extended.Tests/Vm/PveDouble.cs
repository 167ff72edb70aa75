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
    /// A stand-in for one PVE node's API on 127.0.0.1 over TLS with a self-signed certificate. It implements the
    /// endpoints the module uses as the PVE API documents them (apidoc: /nodes/{node}/qemu, …/clone, …/config, …/resize,
    /// …/status/*, DELETE …/{vmid}, /tasks/{upid}/status|log), answers 400 with per-parameter "errors" for unknown
    /// parameters and malformed values, 401 without the right API token, and records every call in order.
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

        /// <summary>VMs and templates by VMID; each has a config like PVE's (<c>name</c>, <c>template</c>, disks, …) and a status.</summary>
        public Dictionary<int, Dictionary<string, string>> Vms { get; } = new Dictionary<int, Dictionary<string, string>>();
        public Dictionary<int, string> Status { get; } = new Dictionary<int, string>();

        /// <summary>Every request in order: <c>POST /nodes/pve1/qemu/9000/clone full=1&amp;name=…&amp;newid=301</c> (parameters sorted).</summary>
        public ConcurrentQueue<string> Calls { get; } = new ConcurrentQueue<string>();

        /// <summary>The calls that change something (not GET), in order.</summary>
        public List<string> Changes => Calls.Where(c => !c.StartsWith("GET ", StringComparison.Ordinal)).ToList();

        /// <summary>Tasks whose path contains the key fail with this exit status and log.</summary>
        public Dictionary<string, (string Exit, string[] Log)> FailingTasks { get; } = new Dictionary<string, (string, string[])>();

        private readonly Dictionary<string, (string Exit, string[] Log, int PollsLeft)> _tasks = new Dictionary<string, (string, string[], int)>();

        public void AddTemplate(int vmid, string name, string size = "32G") =>
            Vms[vmid] = new Dictionary<string, string> { ["name"] = name, ["template"] = "1", ["cores"] = "1", ["memory"] = "2048",
                ["scsi0"] = $"local-lvm:base-{vmid}-disk-0,size={size}", ["ide2"] = $"local-lvm:vm-{vmid}-cloudinit,media=cdrom", ["boot"] = "order=scsi0;ide2;net0",
                ["net0"] = "virtio=BC:24:11:00:00:01,bridge=vmbr0" };

        public void AddVm(int vmid, Dictionary<string, string> config, string status = "stopped")
        {
            Vms[vmid] = config;
            Status[vmid] = status;
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
            if (!path.StartsWith($"/api2/json/nodes/{Node}/", StringComparison.Ordinal)) return (404, "{\"data\":null}");
            var rest = path[$"/api2/json/nodes/{Node}/".Length..].Split('/');
            lock (_gate)
            {
                if (rest[0] == "tasks" && rest.Length == 3) return TaskCall(rest[1], rest[2]);
                if (rest[0] != "qemu") return (404, "{\"data\":null}");
                if (rest.Length == 1 && method == "GET") return Ok(Vms.Select(kv => new Dictionary<string, object?>
                {
                    ["vmid"] = kv.Key, ["name"] = kv.Value.GetValueOrDefault("name"), ["status"] = Status.GetValueOrDefault(kv.Key, "stopped"),
                    ["template"] = kv.Value.GetValueOrDefault("template") == "1" ? 1 : null,
                }.Where(p => p.Value != null).ToDictionary(p => p.Key, p => p.Value)).ToList());
                if (!int.TryParse(rest.ElementAtOrDefault(1), out var vmid)) return Bad("vmid", "type check ('integer') failed");
                if (!Vms.TryGetValue(vmid, out var vm)) return (500, $"{{\"data\":null,\"message\":\"Configuration file 'nodes/{Node}/qemu-server/{vmid}.conf' does not exist\\n\"}}");
                var op = string.Join("/", rest.Skip(2));
                switch (method + " " + op)
                {
                    case "GET config": return Ok(vm);
                    case "POST config": return Config(vmid, vm, form);
                    case "POST clone": return Clone(vmid, vm, form);
                    case "PUT resize": return Resize(vmid, vm, form);
                    case "POST status/start": return Power(vmid, form, "running", "qmstart");
                    case "POST status/stop": return Power(vmid, form, "stopped", "qmstop");
                    case "POST status/shutdown": return Power(vmid, form, "stopped", "qmshutdown");
                    case "DELETE ": return Destroy(vmid, query);
                    default: return (501, "{\"data\":null,\"message\":\"Method not implemented\"}");
                }
            }
        }

        private static readonly Regex Mac = new Regex("^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$");

        /// <summary>Parameter rules of POST /nodes/{node}/qemu/{vmid}/config for the properties the module sets.</summary>
        private static readonly Dictionary<string, Func<string, bool>> ConfigRules = new Dictionary<string, Func<string, bool>>
        {
            ["cores"] = v => int.TryParse(v, out var n) && n >= 1 && n <= 1024,
            ["memory"] = v => int.TryParse(v, out var n) && n >= 16,
            ["agent"] = v => Regex.IsMatch(v, "^(0|1|enabled=[01])(,.*)?$"),
            ["onboot"] = v => v == "0" || v == "1",
            ["startup"] = v => Regex.IsMatch(v, "^(order=\\d+)?(,?up=\\d+)?(,?down=\\d+)?$") && v.Length > 0,
            ["net0"] = v => Regex.IsMatch(v, "^(virtio|e1000)=([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2},bridge=[A-Za-z0-9_.-]+(,tag=\\d{1,4})?(,firewall=[01])?$"),
            ["ipconfig0"] = v => Regex.IsMatch(v, "^ip=(dhcp|\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+)(,gw=\\d+\\.\\d+\\.\\d+\\.\\d+)?$"),
            ["ciuser"] = v => Regex.IsMatch(v, "^\\S+$"),
            // PVE: "sshkeys: Public SSH keys (one key per line, OpenSSH format)", sent URL-encoded; raw keys fail.
            ["sshkeys"] = v => !v.Contains(' ') && Uri.UnescapeDataString(v).Split('\n').All(l => l.Length == 0 || Regex.IsMatch(l, "^(ssh-|ecdsa-)\\S+ \\S+( .*)?$")),
            ["nameserver"] = v => v.Split(' ').All(a => IPAddress.TryParse(a, out _)),
            ["searchdomain"] = v => Regex.IsMatch(v, "^[a-z0-9.-]+$"),
            ["digest"] = v => v.Length <= 64,
        };

        private (int, string) Config(int vmid, Dictionary<string, string> vm, Dictionary<string, string> form)
        {
            var errors = new Dictionary<string, string>();
            foreach (var (key, value) in form)
            {
                if (Regex.IsMatch(key, "^scsi\\d+$"))
                {
                    if (!Regex.IsMatch(value, "^[a-z][a-z0-9-]*:\\d+(,serial=[A-Za-z0-9_-]{1,60})?$")) errors[key] = "invalid format - format error";
                    continue;
                }
                if (!ConfigRules.TryGetValue(key, out var rule)) errors[key] = "property is not defined in schema and the schema does not allow additional properties";
                else if (!rule(value)) errors[key] = $"value '{value}' does not have a valid format";
            }
            if (errors.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors }));
            foreach (var (key, value) in form)
            {
                if (Regex.IsMatch(key, "^scsi\\d+$"))
                {
                    var m = Regex.Match(value, "^([a-z][a-z0-9-]*):(\\d+)(,serial=(.*))?$");
                    vm[key] = $"{m.Groups[1].Value}:vm-{vmid}-disk-{vm.Keys.Count(k => k.StartsWith("scsi"))},size={m.Groups[2].Value}G" + (m.Groups[4].Success ? ",serial=" + m.Groups[4].Value : "");
                }
                else if (key == "net0") vm[key] = Regex.Replace(value, "=([0-9A-Fa-f:]{17})", m => "=" + m.Groups[1].Value.ToUpperInvariant());
                else if (key != "digest") vm[key] = value;
            }
            return Upid(vmid, "qmconfig");
        }

        private (int, string) Clone(int vmid, Dictionary<string, string> template, Dictionary<string, string> form)
        {
            var allowed = new[] { "newid", "name", "full", "storage", "target", "description", "pool", "snapname", "format", "bwlimit" };
            var errors = form.Keys.Where(k => !allowed.Contains(k)).ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties");
            if (!form.TryGetValue("newid", out var nid) || !int.TryParse(nid, out var newid) || newid < 100) errors["newid"] = "property is missing and it is not optional";
            else if (Vms.ContainsKey(newid)) return (500, $"{{\"data\":null,\"message\":\"unable to create VM {newid}: config file already exists\\n\"}}");
            if (form.TryGetValue("name", out var name) && !Regex.IsMatch(name, "^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$")) errors["name"] = "value does not look like a valid DNS name";
            if (form.TryGetValue("full", out var full) && full != "0" && full != "1") errors["full"] = "type check ('boolean') failed";
            if (errors.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors }));
            newid = int.Parse(nid!);
            var upid = Upid(newid, "qmclone");
            if (!IsFailing(upid))
            {
                var copy = template.Where(kv => kv.Key != "template").ToDictionary(kv => kv.Key, kv => kv.Value.Replace($"base-{vmid}-", $"vm-{newid}-").Replace($"vm-{vmid}-", $"vm-{newid}-"));
                copy["name"] = name ?? $"Copy-of-VM-{template["name"]}";
                copy["net0"] = "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0";
                AddVm(newid, copy);
            }
            return upid;
        }

        private (int, string) Resize(int vmid, Dictionary<string, string> vm, Dictionary<string, string> form)
        {
            var errors = form.Keys.Where(k => k != "disk" && k != "size" && k != "digest" && k != "skiplock").ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties");
            if (!form.TryGetValue("disk", out var disk) || !Regex.IsMatch(disk, "^(ide|sata|scsi|virtio)\\d+$")) errors["disk"] = "value is not a valid disk";
            if (!form.TryGetValue("size", out var size) || !Regex.IsMatch(size, "^\\+?\\d+(\\.\\d+)?[KMGT]?$")) errors["size"] = "value does not match the regex pattern";
            if (errors.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors }));
            var current = Regex.Match(vm[disk!], "size=(\\d+)G").Groups[1].Value;
            var wanted = int.Parse(size!.TrimStart('+').TrimEnd('G'));
            var upid = Upid(vmid, "resize");
            if (wanted < int.Parse(current)) FailingTasks[Key(upid)] = ("shrinking disks is not supported", new[] { "shrinking disks is not supported" });
            else vm[disk!] = Regex.Replace(vm[disk!], "size=\\d+G", $"size={wanted}G");
            return upid;
        }

        private (int, string) Power(int vmid, Dictionary<string, string> form, string state, string type)
        {
            if (form.Count > 0 && form.Keys.Any(k => k != "timeout" && k != "skiplock" && k != "forceStop"))
                return (400, JsonSerializer.Serialize(new { data = (object?)null, errors = form.Keys.ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties") }));
            var upid = Upid(vmid, type);
            if (!IsFailing(upid)) Status[vmid] = state;
            return upid;
        }

        private (int, string) Destroy(int vmid, Dictionary<string, string> query)
        {
            var bad = query.Keys.Where(k => k != "purge" && k != "destroy-unreferenced-disks" && k != "skiplock").ToList();
            if (bad.Count > 0) return (400, JsonSerializer.Serialize(new { data = (object?)null, errors = bad.ToDictionary(k => k, k => "property is not defined in schema and the schema does not allow additional properties") }));
            var upid = Upid(vmid, "qmdestroy");
            if (Status.GetValueOrDefault(vmid) == "running") FailingTasks[Key(upid)] = ($"VM {vmid} is running - destroy failed", new[] { "VM is running - destroy failed" });
            else if (!IsFailing(upid)) { Vms.Remove(vmid); Status.Remove(vmid); }
            return upid;
        }

        private (int, string) Upid(int vmid, string type)
        {
            var upid = $"UPID:{Node}:0000{++_taskCounter:X4}:00ABCDEF:6560{_taskCounter:X4}:{type}:{vmid}:{TokenId}:";
            var failing = FailingTasks.FirstOrDefault(f => upid.Contains(f.Key));
            _tasks[upid] = failing.Key != null ? (failing.Value.Exit, failing.Value.Log, 1) : ("OK", new[] { "TASK OK" }, 1);
            return Ok(upid);
        }

        private bool IsFailing(string response) => _tasks.TryGetValue(JsonDocument.Parse(response).RootElement.GetProperty("data").GetString()!, out var t) && t.Exit != "OK";

        private static string Key((int, string) response) => JsonDocument.Parse(response.Item2).RootElement.GetProperty("data").GetString()!;

        private bool IsFailing((int, string) response) => IsFailing(response.Item2);

        private (int, string) TaskCall(string upid, string what)
        {
            if (!_tasks.TryGetValue(upid, out var t)) return (500, "{\"data\":null,\"message\":\"no such task\"}");
            if (FailingTasks.TryGetValue(upid, out var late)) t = (late.Exit, late.Log, t.PollsLeft);
            if (what == "log") return Ok(t.Log.Select((l, i) => new { n = i + 1, t = l }).ToList());
            if (t.PollsLeft > 0)
            {
                _tasks[upid] = (t.Exit, t.Log, t.PollsLeft - 1);
                return Ok(new { status = "running", upid, node = Node });
            }
            return Ok(new { status = "stopped", exitstatus = t.Exit, upid, node = Node });
        }

        private static (int, string) Ok(object data) => (200, JsonSerializer.Serialize(new { data }));

        private static (int, string) Bad(string key, string why) => (400, JsonSerializer.Serialize(new { data = (object?)null, errors = new Dictionary<string, string> { [key] = why } }));

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
