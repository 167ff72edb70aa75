using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dns
{
    /// <summary>
    /// BIND 9 through RFC 2136 dynamic updates signed with the tier's TSIG key (<c>dns.tsigKeyFile</c>), sent with
    /// <c>nsupdate -k</c> on the <c>dns.via</c> machine; the zones are read with a TSIG-signed AXFR (<c>dig axfr</c>).
    /// <para>Ownership: next to every record it writes the module keeps a marker TXT record
    /// <c>_deevnet.&lt;name&gt; TXT "Deevnet.Extended owns &lt;TYPE&gt;"</c> in the same zone and the same update message,
    /// so a record is the module's exactly when its marker exists; records made by hand have none and are never
    /// touched. Markers are plain zone data: they survive restarts, zone transfers and journal replays.</para>
    /// <para>Transactions: one UPDATE message per zone (RFC 2136 allows one zone per message), split only when a zone's
    /// changes would not fit a 64 KiB message. Each message carries prerequisites (the old value must still be there,
    /// a new name must still be free), so the server applies all of it or none of it. When a later message fails the
    /// earlier ones are reverted with inverse updates.</para>
    /// </summary>
    public sealed class BindDnsBackend : DnsBackendBase
    {
        internal const string MarkerLabel = "_deevnet";
        internal const string MarkerText = "Deevnet.Extended owns ";
        private const int ChangesPerMessage = 300;
        private readonly IHostTransport _transport;
        private readonly string _keyFile;
        private HashSet<string> _servedZones = new HashSet<string>(StringComparer.Ordinal);

        public BindDnsBackend(DnsBackendSettings settings) : base(settings)
        {
            _transport = settings.RequireTransport();
            _keyFile = settings.Spec.Require("tsigKeyFile");
        }

        public override string Kind => "bind";
        public override string Server => $"bind {Settings.ServerAddress}:{Settings.Port}";

        private int TimeoutSeconds => Math.Max(1, (int)Math.Ceiling(Settings.Timeout.TotalSeconds));

        public override async Task<DnsRecordSet> ReadAsync(IEnumerable<string>? names, CancellationToken cancellationToken)
        {
            var candidates = new List<string> { Zone };
            candidates.AddRange(Settings.ReverseZoneCandidates());
            foreach (var n in names ?? Enumerable.Empty<string>())
                if (n.EndsWith(".in-addr.arpa", StringComparison.Ordinal)) candidates.AddRange(ParentZones(n));
            candidates = candidates.Distinct(StringComparer.Ordinal).ToList();

            var sections = new OutputSections();
            var sb = new StringBuilder();
            foreach (var z in candidates)
            {
                // The forward zone comes first; when the server does not answer at all, stop instead of timing out again.
                sb.Append(ShellQuote.Line($"{sections.Start(z)}; out=$(dig -k {_keyFile} -p {Settings.Port} {"@" + Settings.ServerAddress} " +
                          $"+time={TimeoutSeconds} +tries=1 +nocmd +nostats +nocomments +noquestion axfr {z + "."} 2>&1); printf '%s\\n' \"$out\"; " +
                          $"case \"$out\" in *'timed out'*|*'communications error'*|*'no servers could be reached'*) exit 9;; esac\n"));
            }
            var result = await _transport.RunAsync(sb.ToString(), cancellationToken, null, Settings.Timeout + Settings.Timeout).ConfigureAwait(false);
            var parts = sections.Split(result.StandardOutput).ToDictionary(p => p.Name, p => p.Text, StringComparer.Ordinal);
            if (result.ExitStatus == 9)
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError,
                    $"{Server} did not answer a zone transfer of {Zone} within {TimeoutSeconds} s: {Trim(parts.Values.LastOrDefault() ?? result.StandardError)}", Server)
                { RecommendedAction = "Check that named runs and that dns.server / dns.port point at it." };
            if (!result.Succeeded)
                throw new DeevException(DnsErrors.ServerUnreachable, DeevErrorKind.ConnectionError, $"{Server}: reading the zones failed: {Trim(result.StandardError)}", Server);

            var records = new List<DnsRecord>();
            var markers = new HashSet<string>(StringComparer.Ordinal);
            var served = new HashSet<string>(StringComparer.Ordinal);
            foreach (var section in parts)
            {
                var zoneRecords = ParseAxfr(section.Key, section.Value, markers);
                if (zoneRecords == null) continue;
                served.Add(section.Key);
                records.AddRange(zoneRecords);
            }
            if (!served.Contains(Zone))
                throw new DeevException(DnsErrors.ZoneNotServed, DeevErrorKind.ObjectNotFound,
                    $"{Server} refused a transfer of {Zone} with the key in {_keyFile}: {Trim(parts.TryGetValue(Zone, out var s) ? s : "")}", Zone)
                { RecommendedAction = "Check the zone name (dns.zone) and that the TSIG key may transfer and update it (allow-transfer, allow-update)." };
            _servedZones = served;
            var owned = records.Where(r => markers.Contains(r.Key)).Select(r => r.As(true, Server)).ToList();
            var foreign = records.Where(r => !markers.Contains(r.Key)).Select(r => r.As(false, Server)).ToList();
            return new DnsRecordSet(DesiredRecords.Sort(owned), DesiredRecords.Sort(foreign));
        }

        protected override bool CanHold(DnsRecord record) => ZoneOf(record.Name) != null;

        private string? ZoneOf(string name) =>
            _servedZones.Where(z => DnsRecord.IsInZone(name, z)).OrderByDescending(z => z.Length).FirstOrDefault();

        protected override async Task<bool> CommitAsync(DnsPlan plan, CancellationToken cancellationToken)
        {
            var steps = Diff(plan);
            // Group by zone; a name in no served zone goes with the forward zone so that the server itself refuses it.
            var messages = steps.GroupBy(s => ZoneOf(s.Name) ?? Zone)
                .SelectMany(g => g.Select((s, i) => (g.Key, s, i / ChangesPerMessage)))
                .GroupBy(x => (x.Key, x.Item3))
                .Select(g => (Zone: g.Key.Key, Steps: g.Select(x => x.s).ToList()))
                .ToList();
            var done = new List<(string Zone, List<Step> Steps)>();
            foreach (var m in messages)
            {
                var script = new StringBuilder();
                foreach (var s in m.Steps) s.WriteForward(script);
                var error = await SendAsync(m.Zone, script.ToString(), cancellationToken).ConfigureAwait(false);
                if (error != null)
                {
                    foreach (var d in Enumerable.Reverse(done))
                    {
                        var undo = new StringBuilder();
                        foreach (var s in Enumerable.Reverse(d.Steps)) s.WriteInverse(undo);
                        var undoError = await SendAsync(d.Zone, undo.ToString(), CancellationToken.None).ConfigureAwait(false);
                        if (undoError != null) Log.Warning($"{Server}: reverting the earlier update of {d.Zone} failed: {undoError}");
                    }
                    throw new DeevException(DnsErrors.UpdateRejected, DeevErrorKind.InvalidData,
                        $"{Server} refused the update of {m.Zone}; nothing of the batch was kept: {error}", Server);
                }
                done.Add(m);
            }
            return false;
        }

        /// <summary>Sends one UPDATE message; returns null on success, else what nsupdate said.</summary>
        private async Task<string?> SendAsync(string zone, string body, CancellationToken cancellationToken)
        {
            var input = $"server {Settings.ServerAddress} {Settings.Port}\nzone {zone}.\n{body}send\n";
            var cmd = ShellQuote.Line($"nsupdate -v -t {TimeoutSeconds} -k {_keyFile}");
            var r = await _transport.RunAsync(cmd, cancellationToken, input, Settings.Timeout + Settings.Timeout).ConfigureAwait(false);
            return r.Succeeded ? null : Trim(r.StandardError + " " + r.StandardOutput);
        }

        internal static IEnumerable<string> ParentZones(string reverseName)
        {
            var labels = reverseName.Split('.');
            for (var skip = 1; skip < labels.Length - 2; skip++) yield return string.Join(".", labels.Skip(skip));
        }

        /// <summary>The A/PTR/CNAME records of a transfer (null when it failed); markers go into <paramref name="markers"/>.</summary>
        internal static List<DnsRecord>? ParseAxfr(string zone, string text, ISet<string> markers)
        {
            var records = new List<DnsRecord>();
            var sawSoa = false;
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == ';') continue;
                var f = line.Split(new[] { ' ', '\t' }, 5, StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 5) continue;
                var name = f[0].TrimEnd('.').ToLowerInvariant();
                var type = f[3].ToUpperInvariant();
                var data = f[4].Trim();
                if (type == "SOA" && name == zone) sawSoa = true;
                if (type == "TXT" && name.StartsWith(MarkerLabel + ".", StringComparison.Ordinal))
                {
                    var text2 = data.Trim('"');
                    if (text2.StartsWith(MarkerText, StringComparison.Ordinal))
                        markers.Add(name.Substring(MarkerLabel.Length + 1) + " " + text2.Substring(MarkerText.Length).Trim());
                    continue;
                }
                if (type != "A" && type != "PTR" && type != "CNAME") continue;
                if (!int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ttl)) continue;
                if (DnsRecord.TryRead(name, (DnsRecordType)Enum.Parse(typeof(DnsRecordType), type), data, ttl) is { } record) records.Add(record);
            }
            return sawSoa ? records.Distinct().ToList() : null;
        }

        private static List<Step> Diff(DnsPlan plan)
        {
            var before = plan.Current.Owned.ToDictionary(r => r.Key, StringComparer.Ordinal);
            var after = plan.TargetOwned.ToDictionary(r => r.Key, StringComparer.Ordinal);
            var steps = new List<Step>();
            foreach (var kv in before)
                if (!after.ContainsKey(kv.Key)) steps.Add(new Step(kv.Value, null));
            foreach (var kv in after)
            {
                before.TryGetValue(kv.Key, out var old);
                if (old == null || old.Value != kv.Value.Value || old.Ttl != kv.Value.Ttl) steps.Add(new Step(old, kv.Value));
            }
            // Removals first, so a name that changes from A to CNAME is free when the CNAME arrives.
            return steps.OrderBy(s => s.New == null ? 0 : 1).ToList();
        }

        /// <summary>One record's change, written as nsupdate lines, forward (with prerequisites) or inverted.</summary>
        private sealed class Step
        {
            public Step(DnsRecord? old, DnsRecord? @new)
            {
                Old = old;
                New = @new;
            }

            public DnsRecord? Old { get; }
            public DnsRecord? New { get; }
            public string Name => (New ?? Old)!.Name;

            public void WriteForward(StringBuilder sb) => Write(sb, Old, New, true);
            public void WriteInverse(StringBuilder sb) => Write(sb, New, Old, false);

            private static void Write(StringBuilder sb, DnsRecord? from, DnsRecord? to, bool prerequisites)
            {
                var r = (to ?? from)!;
                var type = r.Type.ToString();
                var marker = $"{MarkerLabel}.{r.Name}.";
                var markerData = $"\"{MarkerText}{type}\"";
                if (prerequisites)
                {
                    if (from == null) sb.Append($"prereq nxrrset {r.Name}. {type}\n");
                    else sb.Append($"prereq yxrrset {from.Name}. {type} {Data(from)}\n");
                }
                if (from != null) sb.Append($"update delete {from.Name}. {type}\n");
                if (to != null)
                {
                    sb.Append($"update add {to.Name}. {to.Ttl} {type} {Data(to)}\n");
                    if (from == null) sb.Append($"update add {marker} {to.Ttl} TXT {markerData}\n");
                }
                else
                {
                    sb.Append($"update delete {marker} TXT {markerData}\n");
                }
            }

            private static string Data(DnsRecord r) => r.Type == DnsRecordType.A ? r.Value : r.Value + ".";
        }
    }
}
