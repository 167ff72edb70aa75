using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using Deevnet.Extended.Core.Transport;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>The hypervisors, dhcp, dns and backup sections: a kind, then the keys that kind allows.</summary>
    internal sealed partial class TierReader
    {
        private static readonly Regex EnvNamePattern = new Regex(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant);
        private static readonly Regex PlainTokenPattern = new Regex(@"^[A-Za-z0-9][A-Za-z0-9_.:+/=@-]*$", RegexOptions.CultureInvariant);

        private void ReadHypervisors(YamlFields top)
        {
            var section = Section(top, "hypervisors");
            if (section == null) return;
            foreach (var entry in section.Entries)
            {
                var name = entry.Key;
                if (NameRules.WhyNotAName(name, "hypervisor name") is { } why) Problem(entry.Value.Key, $"hypervisors.{name}: {why}");
                var f = Map(entry.Value.Value, "hypervisors." + name, entry.Value.Key);
                var spec = ReadBackend(f, TierSchema.HypervisorKinds, name);
                if (spec is Hypervisor hv) _hypervisors[name] = hv;
                else if (f != null) _hypervisors[name] = new Hypervisor(name, "unknown", null, new Dictionary<string, string>(), 0, 0); // known name, so hosts do not echo the problem
            }
        }

        /// <summary>
        /// Reads one back-end mapping against the schema of its <c>kind</c>. Returns a <see cref="Hypervisor"/> when
        /// <paramref name="hypervisorName"/> is given, else a <see cref="BackendSpec"/>; null when anything is wrong.
        /// </summary>
        private BackendSpec? ReadBackend(YamlFields? f, IReadOnlyDictionary<string, KeySchema> kinds, string? hypervisorName)
        {
            if (f == null) return null;
            var kind = Scalar(f, "kind");
            if (kind == null)
            {
                if (!f.Has("kind")) Problem(f.Anchor, $"{f.Path}: 'kind' is required ({TierSchema.KindList(kinds)})");
                return null;
            }
            if (!kinds.TryGetValue(kind, out var schema))
            {
                Problem(f["kind"]!, $"{f.Path}.kind: '{kind}' is not one of {TierSchema.KindList(kinds)}");
                return null;
            }
            var before = _problems.Count;
            CheckKeys(f, schema, $" for kind '{kind}'");
            var via = f.Has("via") ? ViaValue(f, "via") : null;
            var settings = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in f.Entries)
            {
                var key = entry.Key;
                if (key == "kind" || key == "via" || !schema.Allowed.Contains(key)) continue;
                var value = ReadSetting(f, key, via);
                if (value != null) settings[key] = value;
            }
            AddDefaults(f.Path, kind, settings);
            CheckCleartextCredential(f, settings);
            if (_problems.Count > before) return null;
            var line = (int)f.Anchor.Start.Line;
            var column = (int)f.Anchor.Start.Column;
            return hypervisorName != null
                ? new Hypervisor(hypervisorName, kind, via, settings, line, column)
                : new BackendSpec(f.Path, kind, via, settings, line, column);
        }

        /// <summary>Validates one back-end setting by what its key means; returns it normalised, or null.</summary>
        private string? ReadSetting(YamlFields f, string key, Via? via)
        {
            var path = f.PathOf(key);
            if (TierSchema.LocalFileKeys.Contains(key)) return LocalPath(f, key);
            if (TierSchema.ServerFileKeys.Contains(key)) return ServerPath(f, key, via);
            if (key == "port") return Int(f, key, 1, 65535)?.ToString();
            if (key == "skipTlsVerify") return Bool(f, key)?.ToString().ToLowerInvariant();
            var text = Scalar(f, key);
            if (text == null) return null;
            bool ok;
            string expected;
            if (key.EndsWith("Env", StringComparison.Ordinal)) { ok = EnvNamePattern.IsMatch(text); expected = "an environment variable name"; }
            else if (key == "endpoint") { ok = TierSyntax.IsHttpUrl(text); expected = "an http(s) URL, e.g. https://10.20.99.1"; }
            else if (key == "tokenId") { ok = TierSyntax.IsTokenId(text); expected = "an API token id user@realm!token"; }
            else if (key == "tlsFingerprint") { ok = Http.TlsTrust.ParsePin(text) != null; expected = "a SHA-256 fingerprint (64 hex digits with or without colons, or base64)"; }
            else if (key == "zone") { text = text.TrimEnd('.'); ok = NameRules.IsDnsName(text); expected = "a DNS name"; }
            else if (key == "server" || key == "node") { ok = TierSyntax.IsHostOrAddress(text); expected = "a host name or IPv4 address"; }
            else if (key == "netns") { ok = NameRules.IsName(text); expected = "a network namespace name"; }
            else if (key == "restartCommand") { ok = text.Trim().Length > 0 && text.IndexOf('\n') < 0; expected = "a shell command on one line"; }
            else if (key == "domainType") { ok = text == "kvm" || text == "qemu" || text == "test"; expected = "kvm, qemu or test"; }
            else if (key == "ciUser") { ok = System.Text.RegularExpressions.Regex.IsMatch(text, "^[a-z_][a-z0-9_-]{0,31}$"); expected = "a Linux user name"; }
            else if (key == "snippetStorage") { ok = System.Text.RegularExpressions.Regex.IsMatch(text, "^[a-zA-Z][a-zA-Z0-9_.-]*[a-zA-Z0-9]$"); expected = "a Proxmox storage id"; }
            else if (key == "uri") { ok = text.Contains(":"); expected = "a libvirt connection URI, e.g. qemu:///system"; }
            else { ok = PlainTokenPattern.IsMatch(text); expected = "a plain value without spaces"; }
            if (ok) return text;
            Problem(f[key]!, $"{path}: '{text}' is not {expected}");
            return null;
        }

        /// <summary>
        /// A REST endpoint that would carry the section's credential over plain http to a non-loopback address is refused
        /// here, before anything is sent (a loopback endpoint may be one on the server of via, reached through SSH).
        /// </summary>
        private void CheckCleartextCredential(YamlFields f, IReadOnlyDictionary<string, string> settings)
        {
            var credential = settings.Keys.Any(k => k.StartsWith("apiKey", StringComparison.Ordinal) || k.StartsWith("apiSecret", StringComparison.Ordinal) || k.StartsWith("tokenSecret", StringComparison.Ordinal));
            if (credential && settings.TryGetValue("endpoint", out var endpoint) && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && Http.RestClient.CleartextProblem(uri) is { } problem)
                Problem(f["endpoint"]!, $"{f.PathOf("endpoint")}: {problem}");
        }

        private void AddDefaults(string section, string kind, Dictionary<string, string> settings)
        {
            if (section == "dns")
            {
                if (!settings.ContainsKey("zone") && _site != null) settings["zone"] = _site.Domain;
                if (!settings.ContainsKey("port")) settings["port"] = "53";
                if (kind == "powerdns" && !settings.ContainsKey("serverId")) settings["serverId"] = "localhost";
            }
            if (kind == "libvirt" && !settings.ContainsKey("uri")) settings["uri"] = "qemu:///system";
        }

        private BackupSettings? ReadBackup(YamlFields? f)
        {
            if (f == null) return null;
            var before = _problems.Count;
            CheckKeys(f, TierSchema.Backup);
            var store = Scalar(f, "store");
            if (store != null)
            {
                if (store.StartsWith("ssh://", StringComparison.Ordinal))
                {
                    var slash = store.IndexOf('/', "ssh://".Length);
                    if (slash < 0 || slash == store.Length - 1 || !Via.TryParse(store.Substring(0, slash), out _, out var error))
                        Problem(f["store"]!, $"backup.store: '{store}' is not ssh://user@host[:port]/path");
                    else if (PathRules.WhyNotAnAbsolutePath(store.Substring(slash)) is { } why)
                        Problem(f["store"]!, $"backup.store: {why}");
                }
                else store = ResolveLocal(store);
            }
            var recipient = Scalar(f, "recipient");
            if (recipient != null && !recipient.StartsWith("age1", StringComparison.Ordinal))
                Problem(f["recipient"]!, $"backup.recipient: '{recipient}' is not an age public key; it must start with 'age1'");
            else if (recipient != null && !TierSyntax.IsAgeRecipient(recipient))
                Problem(f["recipient"]!, $"backup.recipient: '{recipient}' is not a valid age recipient (age1 followed by 58 bech32 characters)");
            var identityFile = LocalPath(f, "identityFile");
            var signingKeyFile = LocalPath(f, "signingKeyFile");
            var allowedSignersFile = LocalPath(f, "allowedSignersFile");
            // A machine that signs must be able to check its own signatures (else every backup it takes is refused later).
            if (signingKeyFile != null && allowedSignersFile == null && !f.Has("allowedSignersFile"))
                Problem(f["signingKeyFile"]!, "backup.signingKeyFile needs backup.allowedSignersFile (the OpenSSH allowed-signers file that lists its public key)");
            var maxAge = Duration(f, "maxAge", DurationRules.Age) ?? TimeSpan.FromHours(36);
            var keep = Int(f, "keep", 1, 100000) ?? 30;
            if (_problems.Count > before || store == null || recipient == null) return null;
            return new BackupSettings(store, recipient, identityFile, maxAge, keep, signingKeyFile, allowedSignersFile);
        }
    }
}
