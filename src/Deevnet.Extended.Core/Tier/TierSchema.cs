using System;
using System.Collections.Generic;
using System.Linq;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>The keys one section (or one back-end kind) allows and requires.</summary>
    internal sealed class KeySchema
    {
        public KeySchema(string[] allowed, string[]? required = null, string[][]? oneOf = null)
        {
            Allowed = new HashSet<string>(allowed, StringComparer.Ordinal);
            Required = required ?? Array.Empty<string>();
            OneOf = oneOf ?? Array.Empty<string[]>();
        }

        public HashSet<string> Allowed { get; }
        public string[] Required { get; }

        /// <summary>Groups of keys of which exactly one must be given (a secret as <c>…Env</c> or <c>…File</c>).</summary>
        public string[][] OneOf { get; }
    }

    /// <summary>
    /// Which keys each section and each back-end kind takes (docs/tier-file.md). Kept as data so the docs,
    /// the loader and its tests can be compared line by line.
    /// </summary>
    internal static class TierSchema
    {
        public static readonly KeySchema Root = new KeySchema(
            new[] { "site", "access", "segments", "hypervisors", "dhcp", "dns", "backup", "hosts", "services", "isolation", "journal" },
            new[] { "site", "segments", "hosts", "services" });

        public static readonly KeySchema Site = new KeySchema(
            new[] { "name", "domain", "macNamespace", "vmidRange" },
            new[] { "name", "domain", "macNamespace", "vmidRange" });

        public static readonly KeySchema Access = new KeySchema(
            new[] { "user", "identityFile", "knownHosts", "connectTimeout", "commandTimeout" });

        public static readonly KeySchema Segment = new KeySchema(
            new[] { "vlan", "subnet", "gateway", "addressing", "tenant", "bridge", "dns" },
            new[] { "subnet" });

        public static readonly KeySchema Backup = new KeySchema(
            new[] { "store", "recipient", "identityFile", "signingKeyFile", "allowedSignersFile", "maxAge", "keep" },
            new[] { "store", "recipient" });

        public static readonly KeySchema Host = new KeySchema(
            new[] { "segment", "ip", "hypervisor", "vmid", "cores", "memory", "disk", "dataDisk", "startup", "via" },
            new[] { "segment", "ip" });

        public static readonly KeySchema DataDisk = new KeySchema(new[] { "size", "mount", "serial" }, new[] { "size" });
        public static readonly KeySchema Startup = new KeySchema(new[] { "order", "up", "down" }, new[] { "order" });

        public static readonly KeySchema Service = new KeySchema(
            new[] { "class", "host", "names", "checks", "backup", "configure" },
            new[] { "class", "host" }); // a missing backup gets its own, more helpful message

        public static readonly KeySchema ServiceBackup = new KeySchema(new[] { "paths", "before", "after", "none" });

        private static readonly string[] Tls = { "tlsFingerprint", "caFile", "skipTlsVerify" };

        public static readonly IReadOnlyDictionary<string, KeySchema> HypervisorKinds = new Dictionary<string, KeySchema>
        {
            ["proxmox"] = new KeySchema(
                Join(new[] { "kind", "template", "endpoint", "node", "tokenId", "tokenSecretEnv", "tokenSecretFile", "storage", "ciUser", "sshKeyFile",
                    "via", "snippetStorage", "snippetDir" }, Tls),
                new[] { "template", "endpoint", "node", "tokenId" },
                new[] { new[] { "tokenSecretEnv", "tokenSecretFile" } }),
            ["libvirt"] = new KeySchema(
                new[] { "kind", "template", "via", "uri", "imageDir", "domainType", "ciUser", "sshKeyFile" },
                new[] { "template", "via" }),
        };

        public static readonly IReadOnlyDictionary<string, KeySchema> DhcpKinds = new Dictionary<string, KeySchema>
        {
            ["dnsmasq"] = new KeySchema(new[] { "kind", "via", "hostsFile", "pidFile", "netns" }, new[] { "via", "hostsFile", "pidFile" }),
            ["kea"] = new KeySchema(new[] { "kind", "via", "configFile", "controlSocket", "netns" }, new[] { "via", "configFile", "controlSocket" }),
            ["opnsense"] = new KeySchema(
                Join(new[] { "kind", "endpoint", "apiKeyEnv", "apiKeyFile", "apiSecretEnv", "apiSecretFile" }, Tls),
                new[] { "endpoint" },
                new[] { new[] { "apiKeyEnv", "apiKeyFile" }, new[] { "apiSecretEnv", "apiSecretFile" } }),
        };

        private static readonly string[] DnsCommon = { "kind", "zone", "server", "port" };

        public static readonly IReadOnlyDictionary<string, KeySchema> DnsKinds = new Dictionary<string, KeySchema>
        {
            ["dnsmasq"] = new KeySchema(Join(DnsCommon, new[] { "via", "recordsFile", "pidFile", "cnameFile", "restartCommand" }), new[] { "via", "recordsFile", "pidFile" }),
            ["unbound"] = new KeySchema(Join(DnsCommon, new[] { "via", "include", "controlConfig" }), new[] { "via", "include" }),
            ["bind"] = new KeySchema(Join(DnsCommon, new[] { "via", "tsigKeyFile" }), new[] { "via", "tsigKeyFile" }),
            ["powerdns"] = new KeySchema(Join(DnsCommon, new[] { "via", "endpoint", "apiKeyEnv", "apiKeyFile", "serverId" }, Tls), new[] { "endpoint" },
                new[] { new[] { "apiKeyEnv", "apiKeyFile" } }),
            ["opnsense"] = new KeySchema(Join(DnsCommon, new[] { "endpoint", "apiKeyEnv", "apiKeyFile", "apiSecretEnv", "apiSecretFile" }, Tls),
                new[] { "endpoint" },
                new[] { new[] { "apiKeyEnv", "apiKeyFile" }, new[] { "apiSecretEnv", "apiSecretFile" } }),
        };

        /// <summary>Check kinds and the options each takes.</summary>
        public static readonly IReadOnlyDictionary<string, HashSet<string>> CheckKinds = new Dictionary<string, HashSet<string>>
        {
            ["tcp"] = new HashSet<string> { "timeout" },
            ["http"] = new HashSet<string> { "status", "body", "timeout" },
            ["https"] = new HashSet<string> { "status", "body", "certDays", "caFile", "timeout" },
            ["dns"] = new HashSet<string> { "expect", "timeout" },
            ["ssh"] = new HashSet<string> { "timeout" },
            ["command"] = new HashSet<string> { "timeout" },
        };

        /// <summary>Keys that would hold a secret in plain text, and the names of the keys to use instead.</summary>
        public static readonly IReadOnlyDictionary<string, string> PlainSecrets = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["tokenSecret"] = "tokenSecretEnv or tokenSecretFile",
            ["apiKey"] = "apiKeyEnv or apiKeyFile",
            ["apiSecret"] = "apiSecretEnv or apiSecretFile",
            ["password"] = "a key file or an Env/File reference",
            ["secret"] = "an Env/File reference",
            ["token"] = "an Env/File reference",
        };

        /// <summary>Files the module itself reads: relative paths resolve against the tier file's folder, <c>~</c> to HOME.</summary>
        public static readonly HashSet<string> LocalFileKeys = new HashSet<string>(StringComparer.Ordinal)
        {
            "tokenSecretFile", "apiKeyFile", "apiSecretFile", "caFile", "sshKeyFile",
        };

        /// <summary>Files on the server a back end reaches through <c>via</c>.</summary>
        public static readonly HashSet<string> ServerFileKeys = new HashSet<string>(StringComparer.Ordinal)
        {
            "hostsFile", "pidFile", "configFile", "controlSocket", "recordsFile", "cnameFile", "include", "controlConfig", "tsigKeyFile", "imageDir", "snippetDir",
        };

        public static string KindList(IReadOnlyDictionary<string, KeySchema> kinds) => string.Join(", ", kinds.Keys);

        private static string[] Join(params string[][] parts) => parts.SelectMany(p => p).ToArray();
    }
}
