using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>Checks that belong to a service: the declared ones, its CNAMEs, its backup.</summary>
    public sealed partial class CheckPlanner
    {
        private IEnumerable<CheckItem> ServiceChecks(Service service, MgmtHost host)
        {
            foreach (var spec in service.Checks) yield return Declared(service, host, spec);
            var dns = _resolver.Client;
            var server = _resolver.Server?.ToString() ?? "";
            var fqdn = _tier.FqdnOf(host.Name);
            foreach (var alias in service.Names)
            {
                var name = alias + "." + _tier.Site.Domain;
                yield return dns == null ? Skip(service, "dns-cname", name, "the tier names no dns.server to ask")
                    : Item(service, "dns-cname", name, null, t => DnsProbe.CheckAliasAsync(dns, server, name, fqdn, host.IPAddress, t));
            }
            yield return BackupDeclaredCheck(service);
            if (!service.Backup.IsNone) yield return BackupFreshCheck(service);
        }

        private CheckItem Item(Service service, string check, string target, TimeSpan? timeout, Func<CancellationToken, Task<CheckOutcome>> run) =>
            new CheckItem(service.Name, service.Host, CheckSelection.ClassName(service), check, target, timeout ?? _defaultTimeout, run);

        private static CheckItem Skip(Service service, string check, string target, string reason) =>
            CheckItem.Skipped(service.Name, service.Host, CheckSelection.ClassName(service), check, target, reason);

        private CheckItem Declared(Service service, MgmtHost host, CheckSpec spec)
        {
            try
            {
                switch (spec.Kind)
                {
                    case "tcp": return Tcp(service, host, spec);
                    case "http":
                    case "https": return Http(service, spec);
                    case "dns": return Dns(service, host, spec);
                    case "ssh": return Ssh(service, host, spec);
                    case "command": return Command(service, host, spec);
                    default: return Item(service, spec.Kind, spec.Target, spec.Timeout, _ => Task.FromResult(CheckOutcome.Fail($"Unknown check kind '{spec.Kind}'.")));
                }
            }
            catch (Exception ex) when (ex is FormatException || ex is IOException || ex is UnauthorizedAccessException || ex is System.Security.Cryptography.CryptographicException)
            {
                // A check that cannot even be set up is a failed check, not the end of the run.
                var detail = $"Cannot set up the check ({spec.Kind}: {spec.Target}, line {spec.Line}): {ex.Message}";
                return Item(service, spec.Kind, spec.Target, spec.Timeout, _ => Task.FromResult(CheckOutcome.Fail(detail)));
            }
        }

        private CheckItem Tcp(Service service, MgmtHost host, CheckSpec spec)
        {
            var (name, port) = HostPort(spec.Target, host.IPAddress.ToString());
            var item = Item(service, "tcp", $"{name}:{port}", spec.Timeout, t => TcpProbe.CheckAsync(_resolver, name, port, t));
            item.Endpoint = $"{name}:{port}";
            return item;
        }

        private CheckItem Http(Service service, CheckSpec spec)
        {
            var url = new Uri(spec.Target, UriKind.Absolute);
            var status = spec.Get("status") is string s ? int.Parse(s, CultureInfo.InvariantCulture) : 200;
            var certDays = spec.Get("certDays") is string d ? int.Parse(d, CultureInfo.InvariantCulture) : 14;
            var roots = spec.Get("caFile") is string caFile ? LoadPemCertificates(caFile) : null;
            var expect = new HttpExpectation(url, status, spec.Get("body"), certDays, roots);
            var item = Item(service, spec.Kind, spec.Target, spec.Timeout, t => HttpProbe.CheckAsync(_resolver, expect, t, _utcNow));
            item.Endpoint = $"{url.Host}:{url.Port}";
            return item;
        }

        private CheckItem Dns(Service service, MgmtHost host, CheckSpec spec)
        {
            var name = spec.Target.Contains(".") ? spec.Target.TrimEnd('.') : spec.Target + "." + _tier.Site.Domain;
            var expect = spec.Get("expect") is string e ? IPAddress.Parse(e) : host.IPAddress;
            var dns = _resolver.Client;
            if (dns == null) return Skip(service, "dns", name, "the tier names no dns.server to ask");
            var server = _resolver.Server!.ToString();
            return Item(service, "dns", $"{name} = {expect}", spec.Timeout, t => DnsProbe.CheckAddressAsync(dns, server, name, expect, t));
        }

        private CheckItem Ssh(Service service, MgmtHost host, CheckSpec spec)
        {
            var port = string.IsNullOrEmpty(spec.Target) ? 22 : int.Parse(spec.Target, CultureInfo.InvariantCulture);
            var address = host.IPAddress.ToString();
            var target = $"{address}:{port}";
            if (!_backends.HostKeys.IsAvailable) return Skip(service, "ssh", target, _backends.HostKeys.MissingReason!);
            var keys = _backends.HostKeys.Value!;
            var item = Item(service, "ssh", target, spec.Timeout, t => keys.VerifyAsync(address, port, t));
            item.Endpoint = target;
            return item;
        }

        private CheckItem Command(Service service, MgmtHost host, CheckSpec spec)
        {
            if (!_backends.Transports.IsAvailable) return Skip(service, "command", spec.Target, _backends.Transports.MissingReason!);
            var transports = _backends.Transports.Value!;
            var via = _tier.ViaOf(host);
            var timeout = spec.Timeout ?? _defaultTimeout;
            return Item(service, "command", spec.Target, timeout, async t =>
            {
                var transport = await transports.GetAsync(via, t).ConfigureAwait(false);
                var result = await transport.RunAsync(spec.Target, t, timeout: timeout).ConfigureAwait(false);
                var output = (result.StandardOutput.Trim() + "\n" + result.StandardError.Trim()).Trim();
                if (result.Succeeded) return CheckOutcome.Pass($"exit 0 on {via}" + (output.Length > 0 ? ": " + HttpProbe.Snippet(output) : "."));
                return CheckOutcome.Fail($"exit {result.ExitStatus} on {via}: {Tail(output)}");
            });
        }

        private CheckItem BackupDeclaredCheck(Service service)
        {
            var b = service.Backup;
            var target = b.IsNone ? "none" : string.Join(", ", b.Paths);
            return Item(service, "backup-declared", target, null, _ =>
            {
                if (b.IsNone) return Task.FromResult(CheckOutcome.Pass($"Nothing to back up: {b.NoneReason}"));
                if (b.Paths.Count == 0) return Task.FromResult(CheckOutcome.Fail("The backup declares no paths and no reason for none."));
                if (_tier.Backup == null) return Task.FromResult(CheckOutcome.Fail("Paths are declared but the tier has no backup section (store, recipient)."));
                return Task.FromResult(CheckOutcome.Pass($"{b.Paths.Count} path(s) to {_tier.Backup.Store}."));
            });
        }

        private CheckItem BackupFreshCheck(Service service)
        {
            var maxAge = _tier.Backup?.MaxAge ?? TimeSpan.FromHours(36);
            var target = $"newest good backup < {Seconds(maxAge)}";
            if (_tier.Backup == null) return Skip(service, "backup-fresh", target, "the tier has no backup section");
            if (!_backends.Backups.IsAvailable) return Skip(service, "backup-fresh", target, _backends.Backups.MissingReason!);
            var catalog = _backends.Backups.Value!;
            return Item(service, "backup-fresh", target, null, async t =>
            {
                var newest = await catalog.NewestGoodAsync(service.Name, t).ConfigureAwait(false);
                if (newest == null) return CheckOutcome.Skip($"No backup of {service.Name} yet; freshness is checked once one exists.");
                var age = _utcNow() - newest.Created.UtcDateTime;
                var text = $"newest good backup {newest.Id} taken {newest.Created.UtcDateTime:yyyy-MM-dd HH:mm} UTC, {Seconds(age)} ago";
                var outcome = age > maxAge ? CheckOutcome.Fail($"The {text}: older than backup.maxAge {Seconds(maxAge)}.") : CheckOutcome.Pass($"The {text}.");
                return outcome.WithMeasured(Math.Max(0, age.TotalSeconds));
            });
        }

        /// <summary><c>port</c> or <c>host:port</c>; a bare port means the service's host.</summary>
        internal static (string Host, int Port) HostPort(string text, string defaultHost)
        {
            var colon = text.LastIndexOf(':');
            var host = colon < 0 ? defaultHost : text.Substring(0, colon);
            var port = int.Parse(colon < 0 ? text : text.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture);
            if (port < 1 || port > 65535) throw new FormatException($"port {port} is out of range");
            return (host, port);
        }

        /// <summary>Every certificate in a PEM file (a CA bundle).</summary>
        internal static X509Certificate2Collection LoadPemCertificates(string path)
        {
            const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
            var text = File.ReadAllText(path);
            var certs = new X509Certificate2Collection();
            for (var at = text.IndexOf(begin, StringComparison.Ordinal); at >= 0; at = text.IndexOf(begin, at + 1, StringComparison.Ordinal))
            {
                var stop = text.IndexOf(end, at, StringComparison.Ordinal);
                if (stop < 0) break;
                var body = text.Substring(at + begin.Length, stop - at - begin.Length);
                certs.Add(new X509Certificate2(Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c))))));
            }
            if (certs.Count == 0) throw new FormatException($"{path} holds no PEM certificate");
            return certs;
        }

        private static string Tail(string output, int max = 400)
        {
            var one = output.Replace("\r", "").Replace('\n', ' ').Trim();
            return one.Length == 0 ? "(no output)" : one.Length <= max ? one : "…" + one.Substring(one.Length - max);
        }
    }
}
