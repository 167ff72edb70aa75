using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;

namespace Deevnet.Extended.Tests.Dns
{
    /// <summary>
    /// A local stand-in for OPNsense's Unbound API (OPNsense cannot run here). It follows the requests and answers of
    /// the platform reference (§2): <c>GET unbound/settings/get</c> with <c>hosts.host</c> / <c>aliases.alias</c> maps
    /// keyed by uuid, <c>add/set/delHostOverride</c>, <c>add/set/delHostAlias</c>, <c>POST unbound/service/reconfigure</c>;
    /// HTTP Basic with key and secret (401 without), 400 for unknown fields. Edits change the configuration only;
    /// <see cref="Applied"/> (what the running resolver serves) changes on reconfigure alone.
    /// </summary>
    internal sealed class OpnsenseDouble : IDisposable
    {
        private static readonly string[] HostFields = { "enabled", "hostname", "domain", "server", "description" };
        private static readonly string[] AliasFields = { "enabled", "host", "hostname", "domain", "description" };
        private readonly HttpListener _listener = new HttpListener();
        private readonly string _auth;
        private readonly object _gate = new object();
        private readonly Task _loop;

        public OpnsenseDouble(string key, string secret)
        {
            Port = FreePort();
            _auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":" + secret));
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public int Port { get; }
        public string Endpoint => $"http://127.0.0.1:{Port}";
        public Dictionary<string, Dictionary<string, string>> Hosts { get; } = new();
        public Dictionary<string, Dictionary<string, string>> Aliases { get; } = new();

        /// <summary>What the resolver serves: name → value (A: address, alias: target host's FQDN), after reconfigure.</summary>
        public Dictionary<string, string> Applied { get; private set; } = new();
        public int Reconfigures { get; private set; }
        public List<string> Calls { get; } = new();

        /// <summary>When set, the call whose path contains this text answers a validation failure (to test rollback).</summary>
        public string? FailOn { get; set; }

        public string AddHost(string hostname, string domain, string server, string description)
        {
            var uuid = Guid.NewGuid().ToString();
            Hosts[uuid] = new Dictionary<string, string> { ["enabled"] = "1", ["hostname"] = hostname, ["domain"] = domain, ["server"] = server, ["description"] = description };
            Reconfigure();
            return uuid;
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                try { Handle(ctx); }
                catch (Exception ex) { Reply(ctx, 500, JsonSerializer.Serialize(new { error = ex.Message })); }
            }
        }

        private void Handle(HttpListenerContext ctx)
        {
            if (ctx.Request.Headers["Authorization"] != _auth) { Reply(ctx, 401, "{\"status\":401,\"message\":\"Authentication Failed\"}"); return; }
            var path = ctx.Request.Url!.AbsolutePath;
            var body = new StreamReader(ctx.Request.InputStream).ReadToEnd();
            lock (_gate)
            {
                Calls.Add(ctx.Request.HttpMethod + " " + path);
                if (FailOn != null && path.Contains(FailOn)) { Reply(ctx, 200, "{\"result\":\"failed\",\"validations\":{\"host.server\":\"injected failure\"}}"); return; }
                const string s = "/api/unbound/settings/";
                if (ctx.Request.HttpMethod == "GET" && path == s + "get") { Reply(ctx, 200, Settings()); return; }
                if (ctx.Request.HttpMethod == "POST" && path == "/api/unbound/service/reconfigure") { Reconfigure(); Reply(ctx, 200, "{\"status\":\"ok\"}"); return; }
                if (ctx.Request.HttpMethod != "POST" || !path.StartsWith(s, StringComparison.Ordinal)) { Reply(ctx, 404, "{\"errorMessage\":\"Endpoint not found\"}"); return; }
                var parts = path.Substring(s.Length).Split('/');
                var action = parts[0];
                var uuid = parts.Length > 1 ? parts[1] : null;
                var isAlias = action.EndsWith("HostAlias", StringComparison.Ordinal);
                var table = isAlias ? Aliases : Hosts;
                if (action.StartsWith("del", StringComparison.Ordinal))
                {
                    Reply(ctx, 200, uuid != null && table.Remove(uuid) ? "{\"result\":\"deleted\"}" : "{\"result\":\"not found\"}");
                    return;
                }
                if (action != "addHostOverride" && action != "setHostOverride" && action != "addHostAlias" && action != "setHostAlias") { Reply(ctx, 404, "{\"errorMessage\":\"Endpoint not found\"}"); return; }
                using var doc = JsonDocument.Parse(body.Length == 0 ? "{}" : body);
                var wrapper = isAlias ? "alias" : "host";
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(wrapper, out var row) || doc.RootElement.EnumerateObject().Count() != 1)
                { Reply(ctx, 400, $"{{\"errorMessage\":\"expected one '{wrapper}' object\"}}"); return; }
                var allowed = isAlias ? AliasFields : HostFields;
                var unknown = row.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !allowed.Contains(n));
                if (unknown != null) { Reply(ctx, 400, $"{{\"errorMessage\":\"unknown field '{unknown}'\"}}"); return; }
                var values = row.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
                if (!isAlias && (!values.TryGetValue("server", out var ip) || !IPAddress.TryParse(ip, out _)))
                { Reply(ctx, 200, "{\"result\":\"failed\",\"validations\":{\"host.server\":\"A valid IP address is required.\"}}"); return; }
                if (isAlias && (!values.TryGetValue("host", out var h) || !Hosts.ContainsKey(h)))
                { Reply(ctx, 200, "{\"result\":\"failed\",\"validations\":{\"alias.host\":\"Option not in list.\"}}"); return; }
                if (action.StartsWith("add", StringComparison.Ordinal))
                {
                    var id = Guid.NewGuid().ToString();
                    table[id] = values;
                    Reply(ctx, 200, $"{{\"result\":\"saved\",\"uuid\":\"{id}\"}}");
                }
                else if (uuid != null && table.ContainsKey(uuid))
                {
                    table[uuid] = values;
                    Reply(ctx, 200, "{\"result\":\"saved\"}");
                }
                else Reply(ctx, 200, "{\"result\":\"failed\"}");
            }
        }

        private string Settings() => JsonSerializer.Serialize(new
        {
            unbound = new
            {
                hosts = new { host = Hosts },
                aliases = new { alias = Aliases },
            },
        });

        private void Reconfigure()
        {
            Reconfigures++;
            var served = new Dictionary<string, string>();
            string Fqdn(Dictionary<string, string> r) => (r["hostname"].Length > 0 ? r["hostname"] + "." : "") + r["domain"];
            foreach (var h in Hosts.Values.Where(h => h["enabled"] == "1")) served[Fqdn(h)] = h["server"];
            foreach (var a in Aliases.Values.Where(a => a["enabled"] == "1" && Hosts.ContainsKey(a["host"]))) served[Fqdn(a)] = Fqdn(Hosts[a["host"]]);
            Applied = served;
        }

        private static void Reply(HttpListenerContext ctx, int status, string json)
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(json);
            ctx.Response.OutputStream.Write(bytes, 0, bytes.Length);
            ctx.Response.Close();
        }

        private static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }
    }
}
