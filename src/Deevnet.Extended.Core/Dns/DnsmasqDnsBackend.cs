using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dhcp.Dnsmasq;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// dnsmasq (builder bootstrap mode). What its manual (2.90) says decides the design:
    /// <list type="bullet">
    /// <item>an <c>addn-hosts</c> file is re-read on SIGHUP, and dnsmasq answers the PTR of every address in it, so all
    /// A records (and their PTRs) live in <c>dns.recordsFile</c> and a change costs one SIGHUP, no restart;</item>
    /// <item>hosts files cannot hold CNAMEs and SIGHUP never re-reads <c>cname=</c> lines in configuration files, so
    /// service aliases live in <c>dns.cnameFile</c> (a file in dnsmasq's <c>conf-dir</c>) and a change to that file
    /// alone needs a restart (<c>dns.restartCommand</c>), after <c>dnsmasq --test</c> passed with the running
    /// daemon's own arguments. Host address changes, the common case, never restart dnsmasq.</item>
    /// </list>
    /// Both files belong to the module entirely. Records others made (DHCP names, /etc/hosts, other config) cannot be
    /// listed, so they are found by asking the server about the names a batch touches.
    /// </summary>
    public sealed class DnsmasqDnsBackend : DnsBackendBase
    {
        private const string Header = "# Managed by Deevnet.Extended (Sync-DeevDnsRecord). Do not edit: changes are overwritten.\n";
        private readonly IHostTransport _transport;
        private readonly string _recordsFile;
        private readonly string _pidFile;
        private readonly string? _cnameFile;
        private readonly string? _restartCommand;
        private readonly DnsQuery _query;

        public DnsmasqDnsBackend(DnsBackendSettings settings) : base(settings)
        {
            _transport = settings.RequireTransport();
            _recordsFile = settings.Spec.Require("recordsFile");
            _pidFile = settings.Spec.Require("pidFile");
            _cnameFile = settings.Spec.Get("cnameFile");
            _restartCommand = settings.Spec.Get("restartCommand");
            _query = new DnsQuery(settings.ServerAddress, settings.Port, settings.Timeout);
        }

        public override string Kind => "dnsmasq";
        public override string Server => $"dnsmasq {Settings.ServerAddress}:{Settings.Port}";

        public override async Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken)
        {
            // The files say what the module wrote; the server must also be there to serve them.
            await _query.PingAsync(Zone, cancellationToken).ConfigureAwait(false);
            var (records, cnames) = await ReadFilesAsync(cancellationToken).ConfigureAwait(false);
            var owned = ReadOwned(records, cnames);
            var ownedNames = new HashSet<string>(owned.Select(o => o.Name), StringComparer.Ordinal);
            var questions = new List<(string, DnsRecordType)>();
            foreach (var n in (names ?? Enumerable.Empty<string>()).Distinct(StringComparer.Ordinal).Where(n => !ownedNames.Contains(n)))
            {
                if (n.EndsWith(".in-addr.arpa", StringComparison.Ordinal)) questions.Add((n, DnsRecordType.PTR));
                else questions.Add((n, DnsRecordType.A));
            }
            // An A question returns a CNAME at the name too, so one question per name finds both kinds of conflict.
            var answers = await _query.QueryManyAsync(questions, cancellationToken).ConfigureAwait(false);
            // Names dnsmasq registered from DHCP leases are not configuration: dnsmasq gives hosts-file entries (the
            // module's records file) precedence over them, and they vanish with the lease. They are neither conflicts
            // nor records that are "already there".
            var leased = answers.Count == 0 ? new HashSet<string>() : await ReadLeaseRecordsAsync(cancellationToken).ConfigureAwait(false);
            var foreign = answers.Where(r => !leased.Contains(LeaseKey(r.Name, r.Type, r.Value)))
                .Select(r => r.As(false, Server)).ToList();
            return new DnsRecordSet(DesiredRecords.Sort(owned), DesiredRecords.Sort(foreign));
        }

        protected override async Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var aRecords = plan.TargetOwned.Where(r => r.Type == DnsRecordType.A).ToList();
            var implied = new HashSet<string>(aRecords.Select(a => DnsRecord.ReverseName(IPAddress.Parse(a.Value)) + " " + a.Name), StringComparer.Ordinal);
            var lonePtr = plan.TargetOwned.FirstOrDefault(r => r.Type == DnsRecordType.PTR && !implied.Contains(r.Name + " " + r.Value));
            if (lonePtr != null)
                throw DnsRecord.Invalid($"dnsmasq answers PTRs from A records only; {lonePtr.Name} PTR {lonePtr.Value} has no matching A record.", lonePtr.Name);
            var cnames = plan.TargetOwned.Where(r => r.Type == DnsRecordType.CNAME).ToList();

            if (_cnameFile == null && cnames.Count > 0)
            {
                throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.InvalidData,
                    $"{Server}: the batch has CNAMEs but dns.cnameFile is not set; dnsmasq takes CNAMEs only from a configuration file.", Server);
            }
            var paths = _cnameFile == null ? new[] { _recordsFile } : new[] { _recordsFile, _cnameFile };
            var planned = OwnedKeys(plan.Current.Owned);
            var cnameChanged = false;
            // The restart is chosen from what is about to change, so it is computed from what compute sees. The operator's
            // command runs in a shell of its own: whatever it does (an exit, say), the wait for the new process still runs.
            string Reload() => cnameChanged
                ? ShellQuote.Line($"{ShellFragments.ReadPid(_pidFile, ShellFragment.Trusted("pid="))}; old=$pid; sh -c {_restartCommand!}; i=0; while [ $i -lt 100 ]; do " +
                  $"{ShellFragments.ReadPid(_pidFile, ShellFragment.Trusted("pid="))}; if [ -n \"$pid\" ] && [ \"$pid\" != \"$old\" ] && kill -0 \"$pid\" 2>/dev/null; then exit 0; fi; " +
                  $"sleep 0.1; i=$((i+1)); done; {ShellFragments.Exit(1, "dnsmasq did not come back after the restart")}")
                : ShellFragments.HangUp(_pidFile);
            IReadOnlyList<string?>? Compute(IReadOnlyList<string?> current)
            {
                var cnameText = current.Count > 1 ? current[1] : null;
                // The plan was made from what was read then; another writer changed the records since: refuse, never overwrite.
                if (!OwnedKeys(ParseRecords(current[0]).Concat(ParseCnames(cnameText))).SetEquals(planned))
                    throw new DeevException(DnsErrors.ConcurrentChange, DeevErrorKind.ResourceUnavailable,
                        $"{Server}: the module's records changed since they were read (another writer); nothing was changed. Run the command again.", Server);
                var records = RenderRecords(aRecords);
                string? cnameNext = null;
                cnameChanged = false;
                if (_cnameFile != null)
                {
                    var rendered = RenderCnames(cnames);
                    cnameChanged = rendered != cnameText && !(cnameText == null && cnames.Count == 0);
                    if (cnameChanged) cnameNext = rendered;
                }
                if (cnameChanged && _restartCommand == null)
                    throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.InvalidData,
                        $"{Server}: a CNAME change needs a dnsmasq restart, and dns.restartCommand is not set.", Server)
                    { RecommendedAction = "Set dns.restartCommand (e.g. 'systemctl restart dnsmasq') in the tier file." };
                return current.Count > 1 ? new[] { records, cnameNext } : new[] { records };
            }
            // dnsmasq checks the staged CNAME file's syntax before the swap (conf-dir skips its dot-name); a restart that
            // fails with the whole configuration puts the previous files back and restarts again.
            string? Validate(IReadOnlyList<string> staged) => cnameChanged ? "dnsmasq --test --conf-file=" + staged[1] : null;
            var results = await ManagedFile.UpdateManyAsync(_transport, paths, Compute, staged => Validate(staged) ?? "true", Reload,
                cancellationToken, FileOptions(_pidFile)).ConfigureAwait(false);
            cnameChanged = results.Count > 1 && results[1].Changed;
            await WaitUntilServedAsync(plan, cancellationToken).ConfigureAwait(false);
            return cnameChanged;
        }

        /// <summary>SIGHUP and restarts are asynchronous: wait until the server answers with the new data.</summary>
        private async Task WaitUntilServedAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var probe = plan.ToWrite.FirstOrDefault(r => r.Type != DnsRecordType.PTR);
            var gone = plan.ToDelete.FirstOrDefault(r => r.Type != DnsRecordType.PTR && !plan.TargetOwned.Any(t => t.Name == r.Name));
            // dnsmasq keeps answering a removed A record from a DHCP lease of the same name and address until the
            // lease expires: that answer is not the module's record, so it cannot prove the reload either way.
            if (gone != null && (await ReadLeaseRecordsAsync(cancellationToken).ConfigureAwait(false)).Contains(LeaseKey(gone.Name, gone.Type, gone.Value)))
                gone = null;
            var deadline = DateTime.UtcNow + Settings.Timeout;
            while (true)
            {
                try
                {
                    var ok = true;
                    if (probe != null)
                        ok = (await _query.QueryAsync(probe.Name, probe.Type, cancellationToken).ConfigureAwait(false)).Any(r => r.Value == probe.Value);
                    if (ok && gone != null)
                        ok = !(await _query.QueryAsync(gone.Name, gone.Type, cancellationToken).ConfigureAwait(false)).Any(r => r.Value == gone.Value);
                    if (ok) return;
                }
                catch (DeevException) when (DateTime.UtcNow < deadline)
                {
                    // Restarting: not answering yet.
                }
                if (DateTime.UtcNow > deadline)
                    throw new DeevException(DnsErrors.ReloadFailed, DeevErrorKind.OperationTimeout,
                        $"{Server}: the files were replaced but the server did not serve the new records within {Settings.Timeout.TotalSeconds:0} s.", Server);
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// The A and PTR records dnsmasq derives from its current DHCP leases, as <c>name type value</c> keys. The lease
        /// file is found the way dnsmasq finds it (<see cref="DnsmasqConfigReader"/>: its command line, its configuration).
        /// </summary>
        private async Task<HashSet<string>> ReadLeaseRecordsAsync(CancellationToken cancellationToken)
        {
            var (config, _) = await DnsmasqConfigReader.ReadAsync(_transport, _pidFile, _recordsFile, Server, Log, cancellationToken).ConfigureAwait(false);
            if (config.LeaseFile == null) return new HashSet<string>();
            var result = await _transport.RunAsync(ShellQuote.Line($"cat {config.LeaseFile} 2>/dev/null; exit 0"), cancellationToken, null, Settings.Timeout).ConfigureAwait(false);
            return ParseLeaseRecords(result.StandardOutput, Zone);
        }

        /// <summary>Lease lines are <c>expiry mac ip hostname client-id</c>; a hostname of <c>*</c> registers nothing.</summary>
        internal static HashSet<string> ParseLeaseRecords(string leases, string zone)
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var line in Lines(leases))
            {
                var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 4 || parts[3] == "*" || !IPAddress.TryParse(parts[2], out var ip)) continue;
                var fqdn = (parts[3].IndexOf('.') >= 0 ? parts[3] : parts[3] + "." + zone).ToLowerInvariant().TrimEnd('.');
                keys.Add(LeaseKey(fqdn, DnsRecordType.A, ip.ToString()));
                keys.Add(LeaseKey(DnsRecord.ReverseName(ip), DnsRecordType.PTR, fqdn));
                // dnsmasq answers a lease's PTR with the bare host name when the lease's subnet has no domain of its own.
                keys.Add(LeaseKey(DnsRecord.ReverseName(ip), DnsRecordType.PTR, parts[3].ToLowerInvariant().TrimEnd('.')));
            }
            return keys;
        }

        /// <summary>The one key format of the lease set: <c>name type value</c>.</summary>
        internal static string LeaseKey(string name, DnsRecordType type, string value) => name + " " + type + " " + value;

        private async Task<(string? Records, string? Cnames)> ReadFilesAsync(CancellationToken cancellationToken)
        {
            var records = await ReadFileAsync(_transport, _recordsFile, cancellationToken).ConfigureAwait(false);
            var cnames = _cnameFile == null ? null : await ReadFileAsync(_transport, _cnameFile, cancellationToken).ConfigureAwait(false);
            return (records, cnames);
        }

        /// <summary>
        /// The module's two files, parsed. They are the module's alone, so a line in them that breaks the record rules
        /// was written by hand: the read is refused naming the files (escaped), and nothing is rewritten over the line.
        /// </summary>
        private List<DnsRecord> ReadOwned(string? records, string? cnames)
        {
            try { return ParseRecords(records).Concat(ParseCnames(cnames)).Select(r => r.As(true, Server)).ToList(); }
            catch (DeevException ex)
            {
                throw new DeevException(DnsErrors.InvalidRecord, DeevErrorKind.InvalidData,
                    $"{Server}: {Text.SafeText.Printable(_recordsFile)} or {Text.SafeText.Printable(_cnameFile ?? "")} holds a line the module did not write: {ex.Message} Nothing was changed; fix or remove the line.", ex.Target, ex);
            }
        }

        internal static IEnumerable<DnsRecord> ParseRecords(string? text)
        {
            foreach (var line in Lines(text))
            {
                var parts = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2) continue;
                foreach (var name in parts.Skip(1))
                {
                    var a = DnsRecord.Create(name, DnsRecordType.A, parts[0], 0);
                    yield return a;
                    yield return DnsRecord.Create(DnsRecord.ReverseName(IPAddress.Parse(a.Value)), DnsRecordType.PTR, a.Name, 0);
                }
            }
        }

        internal static IEnumerable<DnsRecord> ParseCnames(string? text)
        {
            foreach (var line in Lines(text))
            {
                if (!line.StartsWith("cname=", StringComparison.Ordinal)) continue;
                var parts = line.Substring(6).Split(',');
                var ttl = parts.Length >= 3 && int.TryParse(parts[parts.Length - 1], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 0;
                var target = ttl > 0 ? parts[parts.Length - 2] : parts[parts.Length - 1];
                var aliases = parts.Take(parts.Length - (ttl > 0 ? 2 : 1));
                foreach (var alias in aliases) yield return DnsRecord.Create(alias, DnsRecordType.CNAME, target, ttl);
            }
        }

        internal static string RenderRecords(IEnumerable<DnsRecord> aRecords)
        {
            var sb = new StringBuilder(Header);
            foreach (var a in aRecords.OrderBy(r => r.Name, StringComparer.Ordinal)) sb.Append(a.Value).Append(' ').Append(a.Name).Append('\n');
            return sb.ToString();
        }

        internal static string RenderCnames(IEnumerable<DnsRecord> cnames)
        {
            var sb = new StringBuilder(Header);
            foreach (var c in cnames.OrderBy(r => r.Name, StringComparer.Ordinal))
                sb.Append("cname=").Append(c.Name).Append(',').Append(c.Value).Append(',').Append(c.Ttl.ToString(CultureInfo.InvariantCulture)).Append('\n');
            return sb.ToString();
        }

        private static IEnumerable<string> Lines(string? text) =>
            (text ?? string.Empty).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("#", StringComparison.Ordinal));
    }
}
