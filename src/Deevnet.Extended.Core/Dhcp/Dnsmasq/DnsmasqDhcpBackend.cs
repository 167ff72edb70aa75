using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dhcp.Dnsmasq
{
    /// <summary>
    /// dnsmasq: the module owns one <c>dhcp-hostsfile</c> and nothing else. A batch is one <see cref="ManagedFile"/>
    /// update: lock, read, plan, write a temp file, check it with dnsmasq's own parser, keep the old file, rename,
    /// SIGHUP (dnsmasq re-reads hosts files on SIGHUP), roll back if the signal cannot be delivered.
    /// </summary>
    public sealed class DnsmasqDhcpBackend : IDhcpBackend
    {
        private readonly IHostTransport _transport;
        private readonly string _hostsFile;
        private readonly string _pidFile;
        private readonly string? _netns;
        private readonly IReadOnlyList<Ipv4Network> _tierSubnets;
        private readonly IOperationLog _log;
        private DnsmasqConfig? _config;

        /// <summary>
        /// <paramref name="tierSubnets"/> are the subnets to accept when dnsmasq's own <c>dhcp-range</c> lines cannot be read;
        /// <paramref name="netns"/> is where the check runs, if anywhere special.
        /// </summary>
        public DnsmasqDhcpBackend(IHostTransport transport, string hostsFile, string pidFile, string? netns,
            IReadOnlyList<Ipv4Network> tierSubnets, IOperationLog? log = null)
        {
            _transport = transport ?? throw new ArgumentNullException(nameof(transport));
            _hostsFile = hostsFile;
            _pidFile = pidFile;
            _netns = netns;
            _tierSubnets = tierSubnets;
            _log = log ?? NullOperationLog.Instance;
            Server = $"dnsmasq {transport.Via}";
        }

        public string Server { get; }

        /// <summary>
        /// dnsmasq --test does not open hosts files, so the check feeds the new file's entries to dnsmasq's parser as
        /// <c>dhcp-host=</c> lines of a scratch config: the same syntax, checked by the server's own code.
        /// </summary>
        internal string ValidateCommand(string quotedTemp) => ShellQuote.Line(
            $"c={ShellFragment.Trusted(quotedTemp)}.check.conf; sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e 's/^/dhcp-host=/' " +
            $"{ShellFragment.Trusted(quotedTemp)} > \"$c\" && {ShellFragments.InNetns(_netns)}dnsmasq --test --conf-file=\"$c\"; rc=$?; rm -f \"$c\"; (exit $rc)");

        /// <summary>SIGHUP to the pid in the pid file; fails (and so rolls back) when no dnsmasq runs under that pid.</summary>
        internal string ReloadCommand() => ShellFragments.HangUp(_pidFile);

        public async Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken)
        {
            var (own, config) = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return own.Entries.Concat(config.Reservations).OrderBy(r => r.ClientId, StringComparer.Ordinal).ThenBy(r => r.IsOwned ? 0 : 1).ToList();
        }

        public async Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var (own, config) = await ReadStateAsync(cancellationToken).ConfigureAwait(false);
            return DhcpPlanner.Plan(own.Entries.Concat(config.Reservations).ToList(), SubnetsOf(config), batch, Server);
        }

        public async Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            // The main configuration is not the module's and is not locked: read it first (once per back end, i.e. per
            // cmdlet invocation), then plan under the file lock.
            var config = _config ?? (await DnsmasqConfigReader.ReadAsync(_transport, _pidFile, _hostsFile, Server, _log, cancellationToken).ConfigureAwait(false)).Config;
            _config = config;
            DhcpPlan? plan = null;
            await ManagedFile.UpdateAsync(_transport, _hostsFile, current =>
            {
                var own = DnsmasqHostsFile.Parse(current, Server);
                plan = DhcpPlanner.Plan(own.Entries.Concat(config.Reservations).ToList(), SubnetsOf(config), batch, Server);
                if (!plan.Plan.HasChanges && current != null && current.StartsWith(DnsmasqHostsFile.HeaderMarker, StringComparison.Ordinal)) return null;
                return DnsmasqHostsFile.Render(plan.Owned, own.Unreadable);
            }, ValidateCommand, ReloadCommand(), cancellationToken,
                // The pid file's lock is shared with the dnsmasq DNS back end: both reload the same daemon.
                new ManagedFileOptions { AlsoLock = new[] { _pidFile } }).ConfigureAwait(false);
            _log.Verbose($"{Server}: {plan!.Plan.Summary}" + (plan.Plan.HasChanges ? $"; {_hostsFile} replaced and dnsmasq sent SIGHUP." : "; nothing written."));
            return plan;
        }

        private async Task<(DnsmasqHostsFile.Content Own, DnsmasqConfig Config)> ReadStateAsync(CancellationToken cancellationToken)
        {
            // One command reads the managed file, dnsmasq's command line and its main config; includes take one more.
            var (config, text) = await DnsmasqConfigReader.ReadAsync(_transport, _pidFile, _hostsFile, Server, _log, cancellationToken, alsoCat: _hostsFile).ConfigureAwait(false);
            _config = config;
            var own = DnsmasqHostsFile.Parse(text, Server);
            foreach (var line in own.Unreadable) _log.Warning($"{Server}: {_hostsFile} has a line the module does not understand; it is kept as it is: {DhcpFields.Printable(line)}");
            return (own, config);
        }

        private IReadOnlyList<Ipv4Network> SubnetsOf(DnsmasqConfig config) => config.Subnets.Count > 0 ? config.Subnets : _tierSubnets;
    }
}
