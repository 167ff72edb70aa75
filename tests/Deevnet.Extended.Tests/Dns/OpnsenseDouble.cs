using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.Json;
using Deevnet.Extended.Tests.Doubles;

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
        private readonly LoopbackHttpServer _server;
        private readonly string _auth;
        private readonly object _gate = new object();

        public OpnsenseDouble(string key, string secret)
        {
            _auth = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":" + secret));
            _server = new LoopbackHttpServer(Handle);
        }

        public int Port => _server.Port;
        public string Endpoint => _server.Endpoint;
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

        private HttpResponse Handle(HttpRequest request)
        {
            if (request.Header("Authorization") != _auth) return (401, "{\"status\":401,\"message\":\"Authentication Failed\"}");
            var path = request.Path;
            var body = request.BodyText;
            lock (_gate)
            {
                Calls.Add(request.Method + " " + path);
                if (FailOn != null && path.Contains(FailOn)) return (200, "{\"result\":\"failed\",\"validations\":{\"host.server\":\"injected failure\"}}");
                const string s = "/api/unbound/settings/";
                if (request.Method == "GET" && path == s + "get") return (200, Settings());
                if (request.Method == "POST" && path == "/api/unbound/service/reconfigure") { Reconfigure(); return (200, "{\"status\":\"ok\"}"); }
                if (request.Method != "POST" || !path.StartsWith(s, StringComparison.Ordinal)) return (404, "{\"errorMessage\":\"Endpoint not found\"}");
                var parts = path.Substring(s.Length).Split('/');
                var action = parts[0];
                var uuid = parts.Length > 1 ? parts[1] : null;
                var isAlias = action.EndsWith("HostAlias", StringComparison.Ordinal);
                var table = isAlias ? Aliases : Hosts;
                if (action.StartsWith("del", StringComparison.Ordinal))
                    return (200, uuid != null && table.Remove(uuid) ? "{\"result\":\"deleted\"}" : "{\"result\":\"not found\"}");
                if (action != "addHostOverride" && action != "setHostOverride" && action != "addHostAlias" && action != "setHostAlias") return (404, "{\"errorMessage\":\"Endpoint not found\"}");
                using var doc = JsonDocument.Parse(body.Length == 0 ? "{}" : body);
                var wrapper = isAlias ? "alias" : "host";
                if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(wrapper, out var row) || doc.RootElement.EnumerateObject().Count() != 1)
                    return (400, $"{{\"errorMessage\":\"expected one '{wrapper}' object\"}}");
                var allowed = isAlias ? AliasFields : HostFields;
                var unknown = row.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !allowed.Contains(n));
                if (unknown != null) return (400, $"{{\"errorMessage\":\"unknown field '{unknown}'\"}}");
                var values = row.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
                if (!isAlias && (!values.TryGetValue("server", out var ip) || !IPAddress.TryParse(ip, out _)))
                    return (200, "{\"result\":\"failed\",\"validations\":{\"host.server\":\"A valid IP address is required.\"}}");
                if (isAlias && (!values.TryGetValue("host", out var h) || !Hosts.ContainsKey(h)))
                    return (200, "{\"result\":\"failed\",\"validations\":{\"alias.host\":\"Option not in list.\"}}");
                if (action.StartsWith("add", StringComparison.Ordinal))
                {
                    var id = Guid.NewGuid().ToString();
                    table[id] = values;
                    return (200, $"{{\"result\":\"saved\",\"uuid\":\"{id}\"}}");
                }
                else if (uuid != null && table.ContainsKey(uuid))
                {
                    table[uuid] = values;
                    return (200, "{\"result\":\"saved\"}");
                }
                else return (200, "{\"result\":\"failed\"}");
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

        public void Dispose() => _server.Dispose();
    }
}
