using System;
using System.Collections.Generic;
using System.Linq;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>The services section: host, CNAMEs, checks and the mandatory backup declaration.</summary>
    internal sealed partial class TierReader
    {
        private List<Service> ReadServices(YamlFields top)
        {
            var services = new List<Service>();
            var section = Section(top, "services");
            if (section == null) return services;
            // Every DNS name in the site zone has one owner: a host (A record) or one service (CNAME).
            var dnsNames = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var host in _hostNames) dnsNames[host] = $"host '{host}'";

            foreach (var entry in section.Entries)
            {
                var name = entry.Key;
                var path = "services." + name;
                if (NameRules.WhyNotAName(name, "service name") is { } why) Problem(entry.Value.Key, $"{path}: {why}");
                var f = Map(entry.Value.Value, path, entry.Value.Key);
                if (f == null) continue;
                CheckKeys(f, TierSchema.Service);

                ServiceClass? serviceClass = null;
                var classText = Scalar(f, "class");
                if (classText == "observability") serviceClass = ServiceClass.Observability;
                else if (classText == "automation") serviceClass = ServiceClass.Automation;
                else if (classText == "access") serviceClass = ServiceClass.Access;
                else if (classText != null) Problem(f["class"]!, $"{path}.class: '{classText}' is not observability, automation or access");

                var hostName = Name(f, "host");
                if (hostName != null && !_hostNames.Contains(hostName))
                    Problem(f["host"]!, $"{path}.host: unknown host '{hostName}'");

                var names = new List<string>();
                var nameNodes = List(f, "names");
                if (nameNodes != null)
                    for (var i = 0; i < nameNodes.Count; i++)
                    {
                        var cname = NameOf(nameNodes[i], $"{path}.names[{i}]");
                        if (cname == null) continue;
                        if (dnsNames.TryGetValue(cname, out var owner))
                            Problem(nameNodes[i], owner == $"service '{name}'"
                                ? $"{path}.names[{i}]: '{cname}' is listed twice"
                                : $"{path}.names[{i}]: '{cname}' is already the name of {owner}");
                        else
                        {
                            dnsNames[cname] = $"service '{name}'";
                            names.Add(cname);
                        }
                    }

                var checks = new List<CheckSpec>();
                var checkNodes = List(f, "checks");
                if (checkNodes != null)
                    for (var i = 0; i < checkNodes.Count; i++)
                    {
                        var check = ReadCheck(checkNodes[i], $"{path}.checks[{i}]");
                        if (check != null) checks.Add(check);
                    }

                var backup = ReadServiceBackup(f, path);

                var configure = new List<string>();
                var configureNodes = List(f, "configure");
                if (configureNodes != null)
                    for (var i = 0; i < configureNodes.Count; i++)
                    {
                        var command = ScalarOf(configureNodes[i], $"{path}.configure[{i}]");
                        if (command != null) configure.Add(command);
                    }

                if (serviceClass == null || hostName == null || backup == null) continue;
                services.Add(new Service(name, serviceClass.Value, hostName, names, checks, backup, configure,
                    (int)entry.Value.Key.Start.Line, (int)entry.Value.Key.Start.Column));
            }
            return services;
        }

        private ServiceBackup? ReadServiceBackup(YamlFields service, string path)
        {
            if (!service.Has("backup"))
            {
                Problem(service.Anchor, $"{path}: declares no backup; add backup: {{ paths: [...] }} or backup: {{ none: \"<why nothing needs backing up>\" }}");
                return null;
            }
            var f = Map(service["backup"], path + ".backup", service.KeyNode("backup"));
            if (f == null) return null;
            var before = _problems.Count;
            CheckKeys(f, TierSchema.ServiceBackup);
            var none = Scalar(f, "none");
            var paths = new List<string>();
            var pathNodes = List(f, "paths");
            if (pathNodes != null)
                for (var i = 0; i < pathNodes.Count; i++)
                {
                    var p = AbsolutePathOf(pathNodes[i], $"{f.Path}.paths[{i}]");
                    if (p != null) paths.Add(p);
                }
            var beforeCommand = Scalar(f, "before");
            var afterCommand = Scalar(f, "after");

            if (f.Has("none") && f.Has("paths"))
                Problem(f.KeyNode("none")!, $"{f.Path}: give either paths or none, not both");
            else if (f.Has("none") && (f.Has("before") || f.Has("after")))
                Problem(f.KeyNode("none")!, $"{f.Path}: none takes no before/after commands");
            else if (!f.Has("none") && !f.Has("paths"))
                Problem(f.Anchor, $"{f.Path}: declare paths to back up, or none: \"<why nothing needs backing up>\"");
            else if (pathNodes != null && pathNodes.Count == 0)
                Problem(f["paths"]!, $"{f.Path}.paths: is empty; list what to back up, or use none: \"<reason>\"");
            else if (f.Has("paths") && !_backupSectionGiven)
                Problem(f["paths"]!, $"{f.Path}.paths: the tier has no backup section (store, recipient) to write backups to");

            if (_problems.Count > before) return null;
            return new ServiceBackup(paths, beforeCommand, afterCommand, none);
        }

        private CheckSpec? ReadCheck(YamlNode node, string path)
        {
            var f = Map(node, path);
            if (f == null) return null;
            var kinds = f.Entries.Select(e => e.Key).Where(TierSchema.CheckKinds.ContainsKey).ToList();
            if (kinds.Count == 0)
            {
                Problem(node, $"{path}: a check needs one kind key: tcp, http, https, dns, ssh or command");
                return null;
            }
            if (kinds.Count > 1)
            {
                Problem(f.KeyNode(kinds[1])!, $"{path}: has two kinds ({kinds[0]} and {kinds[1]}); write one check per kind");
                return null;
            }
            var kind = kinds[0];
            var before = _problems.Count;
            var allowed = TierSchema.CheckKinds[kind];
            foreach (var entry in f.Entries)
                if (entry.Key != kind && !allowed.Contains(entry.Key))
                    Problem(entry.Value.Key, $"{path}: '{entry.Key}' is not an option of a {kind} check (options: {string.Join(", ", allowed)})");

            var target = ReadCheckTarget(f, kind, path);
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            if (kind == "http" || kind == "https")
            {
                options["status"] = (Int(f, "status", 100, 599) ?? 200).ToString();
                var body = Scalar(f, "body");
                if (body != null) options["body"] = body;
            }
            if (kind == "https") options["certDays"] = (Int(f, "certDays", 0, 3650) ?? 14).ToString();
            if (kind == "https" && LocalPath(f, "caFile") is string caFile) options["caFile"] = caFile;
            if (kind == "dns")
            {
                var expect = Ip(f, "expect");
                if (expect != null) options["expect"] = expect.ToString();
            }
            var timeout = Duration(f, "timeout", DurationRules.Timeout);
            if (_problems.Count > before || target == null) return null;
            return new CheckSpec(kind, target, options, timeout, (int)node.Start.Line, (int)node.Start.Column);
        }

        private string? ReadCheckTarget(YamlFields f, string kind, string path)
        {
            var node = f[kind]!;
            if (kind == "ssh" && IsNull(node)) return "22";
            var text = ScalarOf(node, $"{path}.{kind}");
            if (text == null) return null;
            bool ok;
            string expected;
            switch (kind)
            {
                case "tcp":
                    var colon = text.LastIndexOf(':');
                    ok = colon < 0 ? IsPort(text) : TierSyntax.IsHostOrAddress(text.Substring(0, colon)) && IsPort(text.Substring(colon + 1));
                    expected = "a port or host:port";
                    break;
                case "ssh":
                    ok = IsPort(text);
                    expected = "a port";
                    break;
                case "http":
                case "https":
                    ok = Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == kind && uri.Host.Length > 0;
                    expected = $"a {kind}:// URL";
                    break;
                case "dns":
                    text = text.TrimEnd('.');
                    ok = NameRules.IsDnsName(text);
                    expected = "a DNS name";
                    break;
                default:
                    ok = text.Trim().Length > 0;
                    expected = "a command";
                    break;
            }
            if (ok) return text;
            Problem(node, $"{path}.{kind}: '{text}' is not {expected}");
            return null;
        }

        private static bool IsPort(string text) => int.TryParse(text, out var port) && port >= 1 && port <= 65535 && text[0] != '0';
    }
}
