using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>Derived checks that belong to a host: DNS records, DHCP reservation, identity, VM, isolation.</summary>
    public sealed partial class CheckPlanner
    {
        private IEnumerable<CheckItem> HostChecks(MgmtHost host)
        {
            var fqdn = _tier.FqdnOf(host.Name);
            var dns = _resolver.Client;
            var server = _resolver.Server?.ToString() ?? "";
            const string noDns = "the tier names no dns.server to ask";
            yield return dns == null ? HostSkip(host, "dns-forward", fqdn, noDns)
                : HostItem(host, "dns-forward", fqdn, t => DnsProbe.CheckAddressAsync(dns, server, fqdn, host.IPAddress, t));
            yield return dns == null ? HostSkip(host, "dns-reverse", host.IPAddress.ToString(), noDns)
                : HostItem(host, "dns-reverse", host.IPAddress.ToString(), t => DnsProbe.CheckReverseAsync(dns, server, host.IPAddress, fqdn, t));

            var segment = _tier.SegmentOf(host);
            if (segment.Addressing == SegmentAddressing.Reservation) yield return ReservationCheck(host);
            yield return IdentityCheck(host);
            if (host.Hypervisor != null) yield return VmCheck(host);
            yield return SegmentCheck(host, segment);
            if (_tier.Isolation != null) yield return VantageCheck(host, _tier.Isolation);
        }

        private CheckItem ReservationCheck(MgmtHost host)
        {
            const string check = "dhcp-reservation";
            var identity = IdentityOf(host);
            var target = (identity?.MacAddress ?? "?") + " → " + host.IPAddress;
            if (_tier.Dhcp == null) return HostSkip(host, check, target, "the tier has no dhcp section");
            if (!_backends.Reservations.IsAvailable) return HostSkip(host, check, target, _backends.Reservations.MissingReason!);
            if (identity == null) return HostSkip(host, check, target, $"{host.Name} has no identity yet (no VMID, so no MAC to look for); run New-DeevHostIdentity");
            var source = _backends.Reservations.Value!;
            return HostItem(host, check, target, async t =>
            {
                var all = await ReservationsAsync(source, t).ConfigureAwait(false);
                var mine = all.FirstOrDefault(r => r.MacAddress == identity.MacAddress);
                if (mine == null)
                {
                    var other = all.FirstOrDefault(r => r.IPAddress.Equals(host.IPAddress) || string.Equals(r.Name, host.Name, StringComparison.OrdinalIgnoreCase));
                    return CheckOutcome.Fail($"No reservation for {identity.MacAddress} in {source.Description}" +
                        (other != null ? $"; it has {other} instead." : "."));
                }
                if (!mine.IPAddress.Equals(host.IPAddress)) return CheckOutcome.Fail($"{identity.MacAddress} is reserved {mine.IPAddress} in {source.Description}, expected {host.IPAddress}.");
                if (mine.Name != null && !string.Equals(mine.Name, host.Name, StringComparison.OrdinalIgnoreCase))
                {
                    return CheckOutcome.Fail($"{identity.MacAddress} → {mine.IPAddress} is reserved under the name '{mine.Name}' in {source.Description}, expected '{host.Name}'.");
                }
                return CheckOutcome.Pass($"{mine} in {source.Description}.");
            });
        }

        private CheckItem IdentityCheck(MgmtHost host)
        {
            const string check = "identity";
            var identity = IdentityOf(host);
            if (identity == null)
            {
                var reason = _backends.Identity.IsAvailable ? $"{host.Name} has no identity yet; run New-DeevHostIdentity" : _backends.Identity.MissingReason!;
                return _backends.Identity.IsAvailable ? HostItem(host, check, host.Name, _ => Task.FromResult(CheckOutcome.Fail(reason))) : HostSkip(host, check, host.Name, reason);
            }
            var expected = MacFor(_tier.Site.MacNamespace, identity.VmId);
            var target = $"vmid {identity.VmId} → {identity.MacAddress}";
            return HostItem(host, check, target, _ =>
            {
                if (identity.VmId < _tier.Site.VmIdMin || identity.VmId > _tier.Site.VmIdMax)
                {
                    return Task.FromResult(CheckOutcome.Fail($"VMID {identity.VmId} ({identity.Source}) lies outside the site range {_tier.Site.VmIdMin}–{_tier.Site.VmIdMax}."));
                }
                if (identity.MacAddress != expected)
                {
                    return Task.FromResult(CheckOutcome.Fail($"MAC {identity.MacAddress} ({identity.Source}) is not f(VMID {identity.VmId}) = {expected}."));
                }
                return Task.FromResult(CheckOutcome.Pass($"MAC {expected} = f(VMID {identity.VmId}) ({identity.Source})."));
            });
        }

        private CheckItem VmCheck(MgmtHost host)
        {
            const string check = "vm";
            var hypervisor = _tier.FindHypervisor(host.Hypervisor!)!;
            var identity = IdentityOf(host);
            var target = $"{host.Name} on {hypervisor.Name}";
            if (!_backends.Vms.IsAvailable) return HostSkip(host, check, target, _backends.Vms.MissingReason!);
            var vms = _backends.Vms.Value!;
            return HostItem(host, check, target, async t =>
            {
                var vm = await vms.FindAsync(hypervisor, host, t).ConfigureAwait(false);
                if (vm == null) return CheckOutcome.Fail($"There is no VM for {host.Name} on {hypervisor.Name}.");
                var problems = new List<string>();
                if (identity != null && vm.VmId.HasValue && vm.VmId.Value != identity.VmId) problems.Add($"its VMID is {vm.VmId}, expected {identity.VmId}");
                var macs = vm.MacAddresses.Select(m => m.ToLowerInvariant()).ToList();
                if (identity != null && !macs.Contains(identity.MacAddress))
                {
                    problems.Add($"its MAC is {(macs.Count == 0 ? "none" : string.Join(", ", macs))}, expected {identity.MacAddress}");
                }
                if (!vm.StartOnBoot) problems.Add("it does not start on boot (autostart/onboot is off)");
                if (problems.Count > 0) return CheckOutcome.Fail($"VM {vm.Name} on {hypervisor.Name}: {string.Join("; ", problems)}.");
                return CheckOutcome.Pass($"VM {vm.Name} on {hypervisor.Name} ({vm.State}): MAC {string.Join(", ", macs)}, starts on boot.");
            });
        }

        private CheckItem SegmentCheck(MgmtHost host, Segment segment)
        {
            var target = $"{host.IPAddress} in {segment.Name}";
            return HostItem(host, "isolation-segment", target, _ =>
            {
                var problems = new List<string>();
                if (segment.IsTenant) problems.Add($"segment {segment.Name} is a tenant segment");
                if (!segment.Subnet.Contains(host.IPAddress)) problems.Add($"{host.IPAddress} is not in {segment.Name} ({segment.Subnet})");
                foreach (var other in _tier.Segments.Where(s => s != segment && s.Subnet.Contains(host.IPAddress)))
                {
                    problems.Add($"{host.IPAddress} also lies in segment {other.Name} ({other.Subnet}{(other.IsTenant ? ", tenant" : "")})");
                }
                return Task.FromResult(problems.Count > 0
                    ? CheckOutcome.Fail(string.Join("; ", problems) + ".")
                    : CheckOutcome.Pass($"{host.IPAddress} lies only in {segment.Name} ({segment.Subnet}), which is not a tenant segment."));
            });
        }

        private CheckItem VantageCheck(MgmtHost host, IsolationSettings isolation)
        {
            var ports = isolation.Ports.Count > 0 ? isolation.Ports : new[] { 22 };
            var from = isolation.Segment != null ? $"{isolation.Vantage} ({isolation.Segment})" : isolation.Vantage.ToString();
            var target = $"{host.IPAddress}:{string.Join(",", ports)} from {from}";
            if (!_backends.Transports.IsAvailable) return HostSkip(host, "isolation-vantage", target, _backends.Transports.MissingReason!);
            var transports = _backends.Transports.Value!;
            return HostItem(host, "isolation-vantage", target, async t =>
            {
                var transport = await transports.GetAsync(isolation.Vantage, t).ConfigureAwait(false);
                var result = await transport.RunAsync(VantageScript(host.IPAddress.ToString(), ports), t).ConfigureAwait(false);
                if (result.ExitStatus == 90) return CheckOutcome.Fail($"Cannot probe from {from}: it has neither bash nor nc.");
                var open = result.StandardOutput.Split('\n').Where(l => l.StartsWith("open ", StringComparison.Ordinal)).Select(l => l.Substring(5).Trim()).ToList();
                if (open.Count > 0) return CheckOutcome.Fail($"Port(s) {string.Join(", ", open)} of {host.IPAddress} are reachable from {from}; management ports must not be reachable from tenant segments.");
                return CheckOutcome.Pass($"No port of {string.Join(", ", ports)} on {host.IPAddress} is reachable from {from}.");
            }, TimeSpan.FromSeconds(3 * ports.Count) + _defaultTimeout);
        }

        /// <summary>Probes each port with a short connect from the vantage; prints <c>open N</c> / <c>closed N</c>.</summary>
        internal static string VantageScript(string address, IEnumerable<int> ports)
        {
            var numbers = ports.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return ShellQuote.Line($"probe() {{ if command -v bash >/dev/null 2>&1; then timeout 2 bash -c \"exec 3<>/dev/tcp/$1/$2\" 2>/dev/null; " +
                   $"elif command -v nc >/dev/null 2>&1; then nc -z -w 2 \"$1\" \"$2\" 2>/dev/null; else exit 90; fi; }}; " +
                   $"for p in {numbers}; do if probe {address} $p; then echo \"open $p\"; else echo \"closed $p\"; fi; done");
        }
    }
}
