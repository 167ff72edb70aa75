using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// Unbound: the module owns one include file (<c>dns.include</c>) of <c>local-data</c> / <c>local-data-ptr</c> lines.
    /// A batch writes the file (checked with <c>unbound-checkconf</c>, previous kept) for persistence and then changes
    /// the running server with <c>unbound-control local_datas_remove</c> / <c>local_datas</c> for the touched names only.
    /// Why not <c>reload</c>: a reload rebuilds every local zone and drops the whole cache (other zones' answers included),
    /// and even <c>reload_keep_cache</c> re-reads and re-creates all configuration; the runtime commands touch exactly the
    /// names in the batch, so nothing else is lost. A batch whose record lists would not fit one SSH command line (more
    /// than <see cref="MaxRuntimeLists"/>) is applied with <c>reload_keep_cache</c> instead. If the runtime step fails the
    /// previous file is put back and <c>reload_keep_cache</c> makes the server match the files again.
    /// </summary>
    public sealed class UnboundDnsBackend : DnsBackendBase
    {
        private const string Header = "# Managed by Deevnet.Extended (Sync-DeevDnsRecord). Do not edit: changes are overwritten.\n";
        private readonly IHostTransport _transport;
        private readonly string _include;
        private readonly string? _controlConfig;

        public UnboundDnsBackend(DnsBackendSettings settings) : base(settings)
        {
            _transport = settings.RequireTransport();
            _include = settings.Spec.Require("include");
            // unbound expands * ? [ in an include path as a pattern: such a path would match nothing, silently, and the
            // check before the swap would pass on a configuration without the new file.
            if (_include.IndexOfAny(new[] { '*', '?', '[' }) >= 0)
                throw new DeevException(DnsErrors.NotConfigured, DeevErrorKind.InvalidData,
                    $"dns.include '{_include}' holds * ? or [, which unbound reads as a pattern; choose a path without them.", "dns.include");
            _controlConfig = settings.Spec.Get("controlConfig");
        }

        public override string Kind => "unbound";
        public override string Server => $"unbound {Settings.ServerAddress}:{Settings.Port}";

        private ShellFragment Control(string command) => _controlConfig != null
            ? ShellQuote.Line($"unbound-control -c {_controlConfig} {command}")
            : ShellQuote.Line($"unbound-control {command}");

        public override async Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken)
        {
            var text = await ReadFileAsync(_transport, _include, cancellationToken).ConfigureAwait(false);
            var owned = Parse(text).Select(r => r.As(true, Server)).ToList();
            var listing = await RunCheckedAsync(_transport, Control("list_local_data"), "unbound-control list_local_data", DnsErrors.ServerUnreachable, cancellationToken).ConfigureAwait(false);
            var ownedKeys = new HashSet<string>(owned.Select(o => o.Key + " " + o.Value), StringComparer.Ordinal);
            var foreign = ParseListing(listing.StandardOutput).Where(r => !ownedKeys.Contains(r.Key + " " + r.Value)).Select(r => r.As(false, Server)).ToList();
            return new DnsRecordSet(DesiredRecords.Sort(owned), DesiredRecords.Sort(foreign));
        }

        /// <summary>Bytes of record lists sent through unbound-control in one command line (well under one SSH packet).</summary>
        internal const int MaxRuntimeLists = 32 * 1024;

        protected override async Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var planned = OwnedKeys(plan.Current.Owned);
            var touched = new HashSet<string>(plan.ToDelete.Concat(plan.ToWrite).Select(r => r.Name), StringComparer.Ordinal);
            var removeList = string.Concat(touched.OrderBy(n => n, StringComparer.Ordinal).Select(n => n + ".\n"));
            var addList = string.Concat(plan.TargetOwned.Where(r => touched.Contains(r.Name)).Select(r => RuntimeLine(r) + "\n"));

            // unbound-control reports a bad line on stdout and may still exit 0: treat any "error" as a failure.
            ShellFragment Step(string cmd, string input) => ShellQuote.Line($"out=$(printf '%s' {input} | {Control(cmd)} 2>&1); rc=$?; printf '%s\\n' \"$out\"; " +
                                                     $"[ $rc -eq 0 ] && ! printf '%s' \"$out\" | grep -qi error");
            // The lists travel in the command line, and an SSH exec request is one packet (SSH.NET refuses more than
            // 64 KiB): a change that large is applied by reloading the include file just swapped in instead.
            var runtime = removeList.Length + addList.Length <= MaxRuntimeLists
                ? ShellQuote.Line($"{Step("local_datas_remove", removeList)} && {Step("local_datas", addList)}")
                : Control("reload_keep_cache");
            var main = _controlConfig ?? "/etc/unbound/unbound.conf";
            await ManagedFile.UpdateAsync(_transport, _include, current =>
            {
                if (!OwnedKeys(Parse(current)).SetEquals(planned))
                    throw new DeevException(DnsErrors.ConcurrentChange, DeevErrorKind.ResourceUnavailable,
                        $"{Server}: the module's records changed since they were read (another writer); nothing was changed. Run the command again.", Server);
                return Render(plan.TargetOwned);
            }, p => CheckCommand(main, _include, ShellFragment.Trusted(p)), runtime, cancellationToken, FileOptions(null, Control("reload_keep_cache"))).ConfigureAwait(false);
            return false;
        }

        /// <summary>
        /// The checker reads the main configuration: check a copy of it whose include of the module's file names the
        /// staged file (<paramref name="staged"/>, quoted by the file transaction) instead, so the new records are
        /// checked before they replace the old ones.
        /// </summary>
        internal static string CheckCommand(string main, string include, ShellFragment staged) =>
            ShellQuote.Line(
                $"(m={main}; t={include}; c={staged}.main.conf; " +
                $"T=\"$t\" S={staged} awk '{{ i = index($0, ENVIRON[\"T\"]); if (i > 0 && $0 ~ /^[ \\t]*include:/) {{ $0 = substr($0, 1, i - 1) ENVIRON[\"S\"] substr($0, i + length(ENVIRON[\"T\"])); n++ }} print }} END {{ exit n ? 0 : 3 }}' \"$m\" > \"$c\"; rc=$?; " +
                // Included through a pattern instead (Debian's own unbound.conf.d/*.conf): check the copy with the staged file
                // included as well. The old file still comes in through the pattern, which only adds records to the check.
                $"if [ $rc -eq 3 ]; then rc=1; set -f; for p in $(sed -n -E 's/^[ \t]*include(-toplevel)?:[ \t]*\"?([^\"]*)\"?[ \t]*$/\\2/p' \"$m\"); do " +
                $"case \"$t\" in $p) rc=0;; esac; done; set +f; " +
                $"if [ $rc -ne 0 ]; then echo \"$m does not include $t: cannot check the new file before it replaces the old one\"; rm -f \"$c\"; exit 1; fi; " +
                // In a server: clause of its own, as the module's file holds server options without a clause line.
                $"printf '\\nserver:\\n  include: \"%s\"\\n' {staged} >> \"$c\"; fi; " +
                $"[ $rc -eq 0 ] || {{ rm -f \"$c\"; exit 1; }}; unbound-checkconf \"$c\"; rc=$?; rm -f \"$c\"; exit $rc)");

        /// <summary>The line unbound-control takes for one record (PTRs in their reverse-name form).</summary>
        internal static string RuntimeLine(DnsRecord r) => r.Type == DnsRecordType.A
            ? $"{r.Name}. {r.Ttl} IN A {r.Value}"
            : $"{r.Name}. {r.Ttl} IN {r.Type} {r.Value}.";

        internal static string Render(IEnumerable<DnsRecord> records)
        {
            var sb = new StringBuilder(Header);
            foreach (var r in DesiredRecords.Sort(records))
            {
                if (r.Type == DnsRecordType.PTR)
                {
                    var ip = DnsRecord.AddressOfReverseName(r.Name);
                    if (ip != null)
                    {
                        sb.Append("local-data-ptr: \"").Append(ip).Append(' ').Append(r.Ttl.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(r.Value).Append(".\"\n");
                        continue;
                    }
                }
                sb.Append("local-data: \"").Append(RuntimeLine(r)).Append("\"\n");
            }
            return sb.ToString();
        }

        internal static IEnumerable<DnsRecord> Parse(string? text)
        {
            foreach (var raw in (text ?? string.Empty).Split('\n'))
            {
                var line = raw.Trim();
                var ptr = line.StartsWith("local-data-ptr:", StringComparison.Ordinal);
                if (!ptr && !line.StartsWith("local-data:", StringComparison.Ordinal)) continue;
                var q1 = line.IndexOf('"');
                var q2 = line.LastIndexOf('"');
                if (q1 < 0 || q2 <= q1) continue;
                var f = line.Substring(q1 + 1, q2 - q1 - 1).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (ptr)
                {
                    if (f.Length < 2 || !Tier.Ipv4Network.TryParseAddress(f[0], out var address)) continue;
                    var ttl = DnsRecord.DefaultTtl;
                    if (f.Length >= 3 && !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out ttl)) continue;
                    var r = DnsRecord.TryRead(DnsRecord.ReverseName(address!), DnsRecordType.PTR, f[f.Length - 1], ttl);
                    if (r != null) yield return r;
                }
                else
                {
                    var r = FromFields(f);
                    if (r != null) yield return r;
                }
            }
        }

        /// <summary><c>list_local_data</c> prints one RR per line: name, TTL, class, type, data.</summary>
        internal static IEnumerable<DnsRecord> ParseListing(string text)
        {
            foreach (var line in text.Split('\n'))
            {
                var r = FromFields(line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries));
                if (r != null) yield return r;
            }
        }

        private static DnsRecord? FromFields(string[] f)
        {
            // name [ttl] [IN] type data
            if (f.Length < 3) return null;
            var i = 1;
            var ttl = DnsRecord.DefaultTtl;
            if (int.TryParse(f[i], NumberStyles.None, CultureInfo.InvariantCulture, out var t)) { ttl = t; i++; }
            if (i < f.Length && f[i].Equals("IN", StringComparison.OrdinalIgnoreCase)) i++;
            if (i + 1 >= f.Length) return null;
            if (!Enum.TryParse<DnsRecordType>(f[i].ToUpperInvariant(), out var type) || !Enum.IsDefined(typeof(DnsRecordType), type)) return null;
            return DnsRecord.TryRead(f[0], type, f[i + 1], ttl);
        }
    }
}
