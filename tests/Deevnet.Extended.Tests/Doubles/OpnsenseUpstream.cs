using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Deevnet.Extended.Tests.Doubles
{
    /// <summary>
    /// The field rules and answer shapes of OPNsense's MVC API that the Kea and Unbound doubles share, each following the
    /// upstream file and function named in its comment. Read at opnsense/core tag 26.7.2 (3fa8a4cfb5, 2026-08-12); the
    /// files named here and in the doubles are unchanged up to master f95e81516e (2026-08-21). Paths are under
    /// <c>src/opnsense/mvc/app/</c>; to re-check a newer release, diff those files between the two tags (README, "What the
    /// tests run against").
    /// </summary>
    internal static class OpnsenseUpstream
    {
        /// <summary><c>library/OPNsense/Core/Type.php</c> <c>Type::isUUID</c>: lowercase version-4 uuids only.</summary>
        public static bool IsUuid(string? text) =>
            text != null && Regex.IsMatch(text, "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

        /// <summary>
        /// <c>models/OPNsense/Base/FieldTypes/MacAddressField.php</c> <c>getValidators</c>: PHP <c>FILTER_VALIDATE_MAC</c>, i.e.
        /// six hex pairs split by ':' or by '-' (one kind), or three hex quads split by '.'; either case. Nothing refuses
        /// a multicast or broadcast MAC upstream, so neither does the double.
        /// </summary>
        public static bool IsMac(string text) =>
            Regex.IsMatch(text, "^[0-9A-Fa-f]{2}(?<s>[:-])[0-9A-Fa-f]{2}(\\k<s>[0-9A-Fa-f]{2}){4}$") ||
            Regex.IsMatch(text, "^[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}$");

        /// <summary><c>FieldTypes/NetworkField.php</c> <c>isValidInput</c> with <c>NetMaskAllowed</c> N: one address, no "/len".</summary>
        public static bool IsAddress(string text, bool ipv4Only) =>
            !text.Contains('/') && IPAddress.TryParse(text, out var ip) && ip.ToString() == text
            && (!ipv4Only || ip.AddressFamily == AddressFamily.InterNetwork);

        /// <summary>
        /// <c>FieldTypes/HostnameField.php</c> <c>getValidators</c> with <c>IsDNSName</c> Y: PHP <c>FILTER_VALIDATE_DOMAIN</c> without
        /// <c>FILTER_FLAG_HOSTNAME</c> (labels of 1–63 bytes, 253 in all) and no blank, '/' or '*'; a lone "*" when
        /// <c>HostWildcardAllowed</c>; an IP address only when <c>IpAllowed</c> (the default).
        /// </summary>
        public static bool IsDnsName(string text, bool ipAllowed = true, bool hostWildcardAllowed = false)
        {
            if (hostWildcardAllowed && text == "*") return true;
            var isIp = IPAddress.TryParse(text, out _);
            if (isIp) return ipAllowed;
            var name = text.EndsWith('.') ? text[..^1] : text;
            return name.Length is > 0 and <= 253 && name.Split('.').All(l => Encoding.UTF8.GetByteCount(l) is > 0 and <= 63)
                && !Regex.IsMatch(text, "[\\s/*]");
        }

        /// <summary><c>models/OPNsense/Unbound/Unbound.xml</c> <c>hosts.host.domain</c> and <c>aliases.alias.domain</c> Mask.</summary>
        public static bool IsDomain(string text) =>
            Regex.IsMatch(text, "^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$", RegexOptions.IgnoreCase);

        /// <summary>
        /// <c>FieldTypes/DescriptionField.php</c> <c>getValidators</c>: <c>/^(.){1,255}$/</c> without /u, so 1–255 BYTES and no
        /// newline; an empty description is not validated at all.
        /// </summary>
        public static bool IsDescription(string text) => text.Length == 0 || (Encoding.UTF8.GetByteCount(text) <= 255 && !text.Contains('\n'));

        /// <summary><c>FieldTypes/BooleanField.php</c> <c>getValidators</c>: <c>/^[01]$/</c>.</summary>
        public static bool IsBoolean(string text) => text is "0" or "1";

        /// <summary>
        /// <c>controllers/OPNsense/Base/ApiMutableModelControllerBase.php</c> <c>validate</c>, as <c>addBase</c>/<c>setBase</c>
        /// answer it: <c>{"result":"failed","validations":{"&lt;post field&gt;.&lt;field&gt;": message}}</c>, HTTP 200.
        /// </summary>
        public static HttpResponse Failed(string postField, IReadOnlyDictionary<string, string> validations)
        {
            var v = new JsonObject();
            foreach (var (field, message) in validations) v[postField + "." + field] = message;
            return (200, new JsonObject { ["result"] = "failed", ["validations"] = v }.ToJsonString());
        }

        /// <summary><c>ApiMutableModelControllerBase::setBase</c> with a uuid that is not a uuid (no upsert), or a body without the post field.</summary>
        public static readonly HttpResponse FailedBare = (200, "{\"result\":\"failed\"}");

        /// <summary><c>library/OPNsense/Base/UIModelGrid.php</c> <c>fetch</c>: <c>{rows, rowCount, total, current}</c> (rowCount -1 = all).</summary>
        public static HttpResponse Search(IEnumerable<JsonObject> rows)
        {
            var list = new JsonArray(rows.ToArray<JsonNode?>());
            return (200, new JsonObject { ["rows"] = list, ["rowCount"] = list.Count, ["total"] = list.Count, ["current"] = 1 }.ToJsonString());
        }

        /// <summary>
        /// <c>FieldTypes/BaseListField.php</c> <c>getNodeOptions</c> (OptionField, ModelRelationField in <c>get*</c> answers):
        /// <c>{key: {"value": display, "selected": 0|1}}</c>, with a <c>""</c> "None" entry first when the field is not required.
        /// </summary>
        public static JsonObject Options(IEnumerable<(string Key, string Display)> options, string selected, bool required)
        {
            var o = new JsonObject();
            if (!required) o[""] = new JsonObject { ["value"] = "None", ["selected"] = selected.Length == 0 ? 1 : 0 };
            foreach (var (key, display) in options) o[key] = new JsonObject { ["value"] = display, ["selected"] = key == selected ? 1 : 0 };
            return o;
        }

        /// <summary><c>ApiMutableModelControllerBase::getBase</c> for an unknown uuid: an empty array.</summary>
        public static readonly HttpResponse NotFoundGet = (200, "[]");
    }
}
