using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dhcp.Kea
{
    /// <summary>
    /// Kea DHCPv4 (Debian's Kea has no host_cmds hook, so reservations live in the config file): a batch is one
    /// <see cref="ManagedFile"/> update of <c>kea-dhcp4.conf</c>, checked with <c>kea-dhcp4 -t</c> (inside the tier's
    /// network namespace, because the check opens the configured interfaces) and applied with <c>config-reload</c>
    /// over the control socket; a failed reload puts the old file back and reloads that.
    /// </summary>
    public sealed class KeaDhcpBackend : IDhcpBackend
    {
        private static readonly Regex SocatSafePath = new Regex("^/[A-Za-z0-9._+@/-]*$", RegexOptions.CultureInvariant);
        private readonly IHostTransport _transport;
        private readonly string _configFile;
        private readonly string _controlSocket;
        private readonly string? _netns;
        private readonly IOperationLog _log;

        public KeaDhcpBackend(IHostTransport transport, string configFile, string controlSocket, string? netns, IOperationLog? log = null)
        {
            _transport = transport ?? throw new ArgumentNullException(nameof(transport));
            _configFile = configFile;
            _controlSocket = controlSocket;
            _netns = netns;
            _log = log ?? NullOperationLog.Instance;
            Server = $"kea {transport.Via}";
        }

        public string Server { get; }

        /// <summary>KEA_LOCKFILE_DIR=none: the check only parses; it must not need write access to Kea's run directory.</summary>
        internal string ValidateCommand(string quotedTemp) =>
            ShellQuote.Line($"{ShellFragments.InNetns(_netns)}env KEA_LOCKFILE_DIR=none kea-dhcp4 -t {ShellFragment.Trusted(quotedTemp)}");

        /// <summary>
        /// config-reload re-reads the file Kea was started with; success is <c>"result": 0</c> in the answer. socat reads
        /// <c>,</c> and <c>:</c> in an address as its own syntax, so a socket path that holds them is refused, not sent.
        /// </summary>
        internal string ReloadCommand() => !SocatSafePath.IsMatch(_controlSocket)
            ? throw DhcpErrors.NotConfigured($"dhcp.controlSocket '{DhcpFields.Printable(_controlSocket)}' is not a plain absolute path (letters, digits and . _ - + @ /); socat would read the rest as its own syntax.")
            : ShellQuote.Line($"r=$(printf '%s' '{{ \"command\": \"config-reload\" }}' | socat -t 30 - {"UNIX-CONNECT:" + _controlSocket}) || " +
                $"{{ echo \"cannot reach Kea's control socket: $r\"; exit 1; }}; printf '%s\\n' \"$r\"; printf '%s' \"$r\" | grep -q '\"result\": *0'");

        public async Task<IReadOnlyList<DhcpReservation>> ReadAsync(CancellationToken cancellationToken)
        {
            var doc = await ReadDocumentAsync(cancellationToken).ConfigureAwait(false);
            return doc.Reservations(Server).OrderBy(r => r.ClientId, StringComparer.Ordinal).ThenBy(r => r.IsOwned ? 0 : 1).ToList();
        }

        public async Task<DhcpPlan> PlanAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            var doc = await ReadDocumentAsync(cancellationToken).ConfigureAwait(false);
            return DhcpPlanner.Plan(doc.Reservations(Server), doc.Subnets, batch, Server);
        }

        public async Task<DhcpPlan> ApplyAsync(DhcpBatch batch, CancellationToken cancellationToken)
        {
            DhcpPlan? plan = null;
            await ManagedFile.UpdateAsync(_transport, _configFile, current =>
            {
                if (current == null) throw DhcpErrors.Response(Server, $"{_configFile} does not exist.");
                var doc = KeaConfigDocument.Parse(current, Server);
                plan = DhcpPlanner.Plan(doc.Reservations(Server), doc.Subnets, batch, Server);
                return plan.Plan.HasChanges ? doc.WithOwned(plan.Owned, Server) : null;
            }, ValidateCommand, ReloadCommand(), cancellationToken).ConfigureAwait(false);
            _log.Verbose($"{Server}: {plan!.Plan.Summary}" + (plan.Plan.HasChanges ? $"; {_configFile} replaced and reloaded (config-reload)." : "; nothing written."));
            return plan;
        }

        private async Task<KeaConfigDocument> ReadDocumentAsync(CancellationToken cancellationToken)
        {
            var text = await ManagedFile.ReadAsync(_transport, _configFile, cancellationToken).ConfigureAwait(false);
            return KeaConfigDocument.Parse(text ?? throw DhcpErrors.Response(Server, $"{_configFile} does not exist."), Server);
        }
    }
}
