using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deevnet.Extended.Tests.Doubles;

namespace Deevnet.Extended.Tests.Dns
{
    /// <summary>
    /// A local stand-in for OPNsense's Unbound API (OPNsense cannot run here) that behaves as upstream does (opnsense/core
    /// <c>controllers/OPNsense/Unbound/Api/SettingsController.php</c> over <c>ApiMutableModelControllerBase</c>, model
    /// <c>models/OPNsense/Unbound/Unbound.xml</c>/<c>.php</c>): <c>GET unbound/settings/get</c> with <c>hosts.host</c> /
    /// <c>aliases.alias</c> maps keyed by uuid and option maps for <c>rr</c> and an alias's <c>host</c>; add/set/del of
    /// host overrides and aliases validated field by field; deleting a host override deletes its aliases;
    /// <c>POST unbound/service/reconfigure</c>. HTTP Basic with key and secret (401 without). Edits change the
    /// configuration only; <see cref="Applied"/> (what the running resolver serves) changes on reconfigure alone.
    /// </summary>
    internal sealed class OpnsenseDouble : IDisposable
    {
        // Unbound.xml hosts.host and aliases.alias. Upstream setNodes ignores unknown keys; the double answers 400 so a
        // misspelt field fails a test instead of being silently lost.
        private static readonly string[] HostFields = { "enabled", "hostname", "domain", "rr", "mxprio", "mx", "ttl", "server", "txtdata", "addptr", "description" };
        private static readonly string[] AliasFields = { "enabled", "host", "hostname", "domain", "description" };
        // Unbound.xml hosts.host.rr OptionValues.
        private static readonly (string Key, string Display)[] RrOptions = { ("A", "A (IPv4 address)"), ("AAAA", "AAAA (IPv6 address)"), ("MX", "MX (mail server)"), ("TXT", "TXT (text)") };
        private const string S = "/api/unbound/settings/";
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

        /// <summary>What the resolver serves: name → value (A overrides: address, alias: target host's FQDN), after reconfigure.</summary>
        public Dictionary<string, string> Applied { get; private set; } = new();
        public int Reconfigures { get; private set; }
        public List<string> Calls { get; } = new();

        /// <summary>When set, the call whose path contains this text answers a validation failure (to test rollback).</summary>
        public string? FailOn { get; set; }

        /// <summary>Seeds an applied host override (enabled unless said otherwise) without validation.</summary>
        public string AddHost(string hostname, string domain, string server, string description, bool enabled = true)
        {
            var uuid = Guid.NewGuid().ToString();
            Hosts[uuid] = HostDefaults();
            foreach (var (k, v) in new[] { ("enabled", enabled ? "1" : "0"), ("hostname", hostname), ("domain", domain), ("server", server), ("description", description) }) Hosts[uuid][k] = v;
            Reconfigure();
            return uuid;
        }

        /// <summary>Seeds an applied alias on a host override without validation.</summary>
        public string AddAlias(string hostUuid, string hostname, string domain, string description, bool enabled = true)
        {
            var uuid = Guid.NewGuid().ToString();
            Aliases[uuid] = new Dictionary<string, string> { ["enabled"] = enabled ? "1" : "0", ["host"] = hostUuid, ["hostname"] = hostname, ["domain"] = domain, ["description"] = description };
            Reconfigure();
            return uuid;
        }

        /// <summary>Unbound.xml defaults: enabled 1, rr A, addptr 1, the rest empty.</summary>
        private static Dictionary<string, string> HostDefaults() =>
            HostFields.ToDictionary(f => f, f => f switch { "enabled" => "1", "rr" => "A", "addptr" => "1", _ => "" });

        private static Dictionary<string, string> AliasDefaults() => AliasFields.ToDictionary(f => f, f => f == "enabled" ? "1" : "");

        private HttpResponse Handle(HttpRequest request)
        {
            if (request.Header("Authorization") != _auth) return (401, "{\"status\":401,\"message\":\"Authentication Failed\"}");
            var path = request.Path;
            lock (_gate)
            {
                Calls.Add(request.Method + " " + path);
                if (FailOn != null && path.Contains(FailOn)) return OpnsenseUpstream.Failed("host", new Dictionary<string, string> { ["server"] = "injected failure" });
                // ApiMutableModelControllerBase::getAction answers the model on GET only (an empty array otherwise).
                if (path == S + "get") return request.Method == "GET" ? (200, Settings()) : (200, "[]");
                if (request.Method == "POST" && path == "/api/unbound/service/reconfigure") { Reconfigure(); return (200, "{\"status\":\"ok\"}"); }
                if (!path.StartsWith(S, StringComparison.Ordinal)) return (404, "{\"errorMessage\":\"Endpoint not found\"}");
                var parts = path.Substring(S.Length).Split('/');
                var action = parts[0];
                var uuid = parts.Length > 1 ? parts[1] : null;
                var isAlias = action.EndsWith("HostAlias", StringComparison.Ordinal);
                if (!isAlias && !action.EndsWith("HostOverride", StringComparison.Ordinal)) return (404, "{\"errorMessage\":\"Endpoint not found\"}");
                var table = isAlias ? Aliases : Hosts;
                var item = isAlias ? "alias" : "host";
                // getBase: {"host": {...}} / {"alias": {...}} for a known uuid, [] for an unknown one.
                if (action.StartsWith("get", StringComparison.Ordinal))
                    return uuid != null && table.TryGetValue(uuid, out var found) ? (200, new JsonObject { [item] = Node(isAlias, found) }.ToJsonString()) : OpnsenseUpstream.NotFoundGet;
                if (request.Method != "POST") return (200, "{\"result\":\"failed\"}");
                if (action.StartsWith("del", StringComparison.Ordinal))
                {
                    // SettingsController::delHostOverrideAction: every alias whose host is this override goes first (each
                    // through delBase), whether or not the override exists; then delBase of the override.
                    if (!isAlias) foreach (var a in Aliases.Where(a => a.Value["host"] == uuid).Select(a => a.Key).ToList()) Aliases.Remove(a);
                    return (200, uuid != null && table.Remove(uuid) ? "{\"result\":\"deleted\"}" : "{\"result\":\"not found\"}");
                }
                if (!action.StartsWith("add", StringComparison.Ordinal) && !action.StartsWith("set", StringComparison.Ordinal)) return (404, "{\"errorMessage\":\"Endpoint not found\"}");
                JsonObject? body;
                try { body = JsonNode.Parse(request.BodyText.Length == 0 ? "{}" : request.BodyText) as JsonObject; }
                catch (JsonException) { return (400, "{\"errorMessage\":\"invalid json\"}"); }
                // addBase/setBase: no post field → {"result":"failed"}.
                if (body?[item] is not JsonObject posted) return OpnsenseUpstream.FailedBare;
                var unknown = posted.Select(p => p.Key).FirstOrDefault(n => !(isAlias ? AliasFields : HostFields).Contains(n));
                if (unknown != null) return (400, $"{{\"errorMessage\":\"unknown field '{unknown}'\"}}");
                var isAdd = action.StartsWith("add", StringComparison.Ordinal);
                var id = isAdd ? Guid.NewGuid().ToString() : uuid ?? "";
                // setBase on an unknown uuid: an "upsert" when it is a valid uuid (the row is created), else failed.
                if (!isAdd && !table.ContainsKey(id) && !OpnsenseUpstream.IsUuid(id)) return OpnsenseUpstream.FailedBare;
                var row = table.TryGetValue(id, out var old) ? new Dictionary<string, string>(old) : isAlias ? AliasDefaults() : HostDefaults();
                // BaseField::setNodes: only the posted fields change.
                foreach (var m in posted) row[m.Key] = m.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s.Trim() : m.Value?.ToJsonString() ?? "";
                var errors = isAlias ? ValidateAlias(row) : ValidateHost(row);
                if (errors.Count > 0) return OpnsenseUpstream.Failed(item, errors);
                table[id] = row;
                return isAdd ? (200, $"{{\"result\":\"saved\",\"uuid\":\"{id}\"}}") : (200, "{\"result\":\"saved\"}");
            }
        }

        private static Dictionary<string, string> ValidateHost(Dictionary<string, string> row)
        {
            var errors = new Dictionary<string, string>();
            // enabled, addptr: BooleanField → BooleanField::getValidators.
            if (!OpnsenseUpstream.IsBoolean(row["enabled"])) errors["enabled"] = "Value is not a boolean.";
            if (!OpnsenseUpstream.IsBoolean(row["addptr"])) errors["addptr"] = "Value is not a boolean.";
            // hostname: HostnameField (HostWildcardAllowed, IsDNSName, IpAllowed N), not required; a trailing dot is
            // refused by Unbound::performValidation.
            var h = row["hostname"];
            if (h.Length > 0 && (!OpnsenseUpstream.IsDnsName(h, ipAllowed: false, hostWildcardAllowed: true) || h.EndsWith('.')))
                errors["hostname"] = "A valid hostname must be specified.";
            // domain: TextField, Required, Mask.
            if (!OpnsenseUpstream.IsDomain(row["domain"])) errors["domain"] = "A valid domain must be specified.";
            // rr: OptionField, Required → BaseListField::getValidators.
            if (!RrOptions.Any(o => o.Key == row["rr"])) errors["rr"] = "Option not in list.";
            // server: NetworkField (NetMaskAllowed N); SetIfConstraint: required when rr is A or AAAA.
            if (row["server"].Length > 0 && !OpnsenseUpstream.IsAddress(row["server"], ipv4Only: false)) errors["server"] = "Please specify a valid network segment or IP address.";
            else if (row["server"].Length == 0 && row["rr"] is "A" or "AAAA") errors["server"] = "The field IP address is required.";
            // ttl: IntegerField 0..2147483647.
            if (row["ttl"].Length > 0 && !(long.TryParse(row["ttl"], out var ttl) && ttl is >= 0 and <= 2147483647)) errors["ttl"] = "Value out of range.";
            // description: DescriptionField → DescriptionField::getValidators.
            if (!OpnsenseUpstream.IsDescription(row["description"])) errors["description"] = "Description should be a string between 1 and 255 characters.";
            return errors;
        }

        private Dictionary<string, string> ValidateAlias(Dictionary<string, string> row)
        {
            var errors = new Dictionary<string, string>();
            if (!OpnsenseUpstream.IsBoolean(row["enabled"])) errors["enabled"] = "Value is not a boolean.";
            // host: ModelRelationField over hosts.host, Required → BaseListField::getValidators.
            if (!Hosts.ContainsKey(row["host"])) errors["host"] = "Option not in list.";
            // hostname: HostnameField (HostWildcardAllowed, IsDNSName, IpAllowed N); domain: Mask; SetIfConstraint: one of the two.
            if (row["hostname"].Length > 0 && !OpnsenseUpstream.IsDnsName(row["hostname"], ipAllowed: false, hostWildcardAllowed: true))
                errors["hostname"] = $"[{row["hostname"]}] is not a valid IP address or hostname.";
            if (row["domain"].Length > 0 && !OpnsenseUpstream.IsDomain(row["domain"])) errors["domain"] = "A valid domain must be specified.";
            if (row["hostname"].Length == 0 && row["domain"].Length == 0)
            {
                errors["hostname"] = "The host field is required if a domain has not been specified.";
                errors["domain"] = "The domain field is required if a host has not been specified.";
            }
            if (!OpnsenseUpstream.IsDescription(row["description"])) errors["description"] = "Description should be a string between 1 and 255 characters.";
            return errors;
        }

        /// <summary>BaseModel::getNodes of one row: strings, with <c>rr</c> and an alias's <c>host</c> as option maps.</summary>
        private JsonObject Node(bool isAlias, Dictionary<string, string> row)
        {
            var o = new JsonObject();
            foreach (var (k, v) in row) o[k] = v;
            if (isAlias)
                o["host"] = OpnsenseUpstream.Options(Hosts.Select(h => (h.Key, h.Value["hostname"] + "." + h.Value["domain"])), row["host"], required: true);
            else
                o["rr"] = OpnsenseUpstream.Options(RrOptions, row["rr"], required: true);
            return o;
        }

        private string Settings()
        {
            var hosts = new JsonObject();
            foreach (var (id, row) in Hosts) hosts[id] = Node(false, row);
            var aliases = new JsonObject();
            foreach (var (id, row) in Aliases) aliases[id] = Node(true, row);
            return new JsonObject { ["unbound"] = new JsonObject { ["hosts"] = new JsonObject { ["host"] = hosts }, ["aliases"] = new JsonObject { ["alias"] = aliases } } }.ToJsonString();
        }

        private void Reconfigure()
        {
            Reconfigures++;
            var served = new Dictionary<string, string>();
            string Fqdn(Dictionary<string, string> r) => (r["hostname"].Length > 0 ? r["hostname"] + "." : "") + r["domain"];
            foreach (var h in Hosts.Values.Where(h => h["enabled"] == "1" && h["rr"] == "A")) served[Fqdn(h)] = h["server"];
            foreach (var a in Aliases.Values.Where(a => a["enabled"] == "1" && Hosts.ContainsKey(a["host"]))) served[Fqdn(a)] = Fqdn(Hosts[a["host"]]);
            Applied = served;
        }

        public void Dispose() => _server.Dispose();
    }
}
