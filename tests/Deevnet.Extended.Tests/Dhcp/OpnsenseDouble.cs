using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deevnet.Extended.Tests.Doubles;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>
    /// A stand-in for OPNsense's Kea API (deevnet-platform.md §2) on 127.0.0.1: the documented paths only, HTTP Basic
    /// key/secret required, unknown paths or fields answered with 400. It keeps its rows so tests can look at them.
    /// </summary>
    internal sealed class OpnsenseDouble : IDisposable
    {
        public const string Key = "test-key";
        public const string Secret = "test-secret";
        private static readonly HashSet<string> ReservationFields = new HashSet<string> { "subnet", "hw_address", "ip_address", "hostname", "description", "option_data" };
        private static readonly HashSet<string> SearchFields = new HashSet<string> { "current", "rowCount", "searchPhrase", "sort" };

        private readonly LoopbackHttpServer _server;
        private readonly object _gate = new object();
        private int _next;

        public OpnsenseDouble()
        {
            _server = new LoopbackHttpServer(Handle);
            Endpoint = new Uri(_server.Endpoint);
            Subnets.Add(("a1b2c3d4-0000-4000-8000-000000000099", "10.20.99.0/24"));
            Add("02:AA:00:00:00:01", "10.20.99.250", "handmade", "Ansible managed - handmade (eth0)");
        }

        public Uri Endpoint { get; }
        public List<(string Uuid, string Cidr)> Subnets { get; } = new List<(string, string)>();
        public Dictionary<string, Dictionary<string, string>> Rows { get; } = new Dictionary<string, Dictionary<string, string>>();
        public List<string> Calls { get; } = new List<string>();
        public int Reconfigures { get; private set; }

        /// <summary>Fail the n-th write call (add/set/del) with a validation error, to test undo.</summary>
        public int FailWriteNumber { get; set; }
        private int _writes;

        public string Add(string mac, string ip, string hostname, string description)
        {
            var uuid = $"00000000-0000-4000-8000-{Interlocked.Increment(ref _next):d12}";
            Rows[uuid] = new Dictionary<string, string> { ["subnet"] = Subnets[0].Uuid, ["hw_address"] = mac, ["ip_address"] = ip, ["hostname"] = hostname, ["description"] = description };
            return uuid;
        }

        private HttpResponse Handle(HttpRequest request)
        {
            var path = request.Path;
            lock (_gate) Calls.Add(path);
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Key + ":" + Secret));
            if (request.Header("Authorization") != expected) return (401, "{\"status\":401,\"message\":\"Authentication Failed\"}");
            if (request.Method != "POST") return (400, "{\"message\":\"POST expected\"}");
            var text = request.BodyText;
            JsonObject body;
            try { body = JsonNode.Parse(text.Length == 0 ? "{}" : text) as JsonObject ?? new JsonObject(); }
            catch (JsonException) { return (400, "{\"message\":\"invalid json\"}"); }

            lock (_gate)
            {
                if (path == "/api/kea/dhcpv4/search_subnet" || path == "/api/kea/dhcpv4/search_reservation")
                {
                    if (body.Any(m => !SearchFields.Contains(m.Key))) return (400, "{\"message\":\"unknown field\"}");
                    var rows = path.EndsWith("subnet", StringComparison.Ordinal)
                        ? Subnets.Select(s => new JsonObject { ["uuid"] = s.Uuid, ["subnet"] = s.Cidr, ["description"] = "mgmt" })
                        : Rows.Select(r => new JsonObject(new[] { KeyValuePair.Create("uuid", (JsonNode?)r.Key) }.Concat(r.Value.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)))));
                    var list = new JsonArray(rows.ToArray<JsonNode?>());
                    return (200, new JsonObject { ["rows"] = list, ["rowCount"] = list.Count, ["total"] = list.Count, ["current"] = 1 }.ToJsonString());
                }
                if (path == "/api/kea/service/reconfigure")
                {
                    Reconfigures++;
                    return (200, "{\"status\":\"ok\"}");
                }
                const string set = "/api/kea/dhcpv4/set_reservation/", del = "/api/kea/dhcpv4/del_reservation/";
                if (path == "/api/kea/dhcpv4/add_reservation" || path.StartsWith(set, StringComparison.Ordinal))
                {
                    var r = body["reservation"] as JsonObject;
                    if (body.Count != 1 || r == null || r.Any(m => !ReservationFields.Contains(m.Key))) return (400, "{\"message\":\"unknown field\"}");
                    if (++_writes == FailWriteNumber) return (200, "{\"result\":\"failed\",\"validations\":{\"reservation.ip_address\":\"rejected by the double\"}}");
                    var values = r.ToDictionary(m => m.Key, m => m.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : "");
                    if (values["hw_address"] != values["hw_address"].ToUpperInvariant()) return (200, "{\"result\":\"failed\",\"validations\":{\"reservation.hw_address\":\"uppercase expected\"}}");
                    if (!Subnets.Any(s => s.Uuid == values["subnet"])) return (200, "{\"result\":\"failed\",\"validations\":{\"reservation.subnet\":\"unknown\"}}");
                    if (path.StartsWith(set, StringComparison.Ordinal))
                    {
                        var uuid = path.Substring(set.Length);
                        if (!Rows.ContainsKey(uuid)) return (200, "{\"result\":\"failed\"}");
                        Rows[uuid] = values;
                        return (200, "{\"result\":\"saved\"}");
                    }
                    var id = Add(values["hw_address"], values["ip_address"], values["hostname"], values["description"]);
                    Rows[id] = values;
                    return (200, $"{{\"result\":\"saved\",\"uuid\":\"{id}\"}}");
                }
                if (path.StartsWith(del, StringComparison.Ordinal))
                {
                    if (++_writes == FailWriteNumber) return (200, "{\"result\":\"failed\"}");
                    return Rows.Remove(path.Substring(del.Length)) ? (200, "{\"result\":\"deleted\"}") : (200, "{\"result\":\"not found\"}");
                }
                return (400, "{\"message\":\"unknown path\"}");
            }
        }

        public void Dispose() => _server.Dispose();
    }
}
