using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Dhcp.Dnsmasq
{
    /// <summary>What dnsmasq's own configuration says, outside the module's hosts file.</summary>
    public sealed class DnsmasqConfig
    {
        public DnsmasqConfig(IReadOnlyList<DhcpReservation> reservations, IReadOnlyList<Ipv4Network> subnets, IReadOnlyList<string> files, string? leaseFile = null)
        {
            Reservations = reservations;
            Subnets = subnets;
            Files = files;
            LeaseFile = leaseFile;
        }

        /// <summary><c>dhcp-host</c> entries from the config files and other hosts files: not owned, never changed.</summary>
        public IReadOnlyList<DhcpReservation> Reservations { get; }

        /// <summary>Subnets of the <c>dhcp-range</c> lines whose netmask is known.</summary>
        public IReadOnlyList<Ipv4Network> Subnets { get; }

        /// <summary>The files that were read.</summary>
        public IReadOnlyList<string> Files { get; }

        /// <summary>Where the running dnsmasq keeps its leases (its option, else its default); null when none runs.</summary>
        public string? LeaseFile { get; }

        public static DnsmasqConfig Empty { get; } = new DnsmasqConfig(new DhcpReservation[0], new Ipv4Network[0], new string[0]);
    }

    /// <summary>
    /// Finds the running dnsmasq's configuration (its pid file → <c>/proc/&lt;pid&gt;/cmdline</c> → <c>--conf-file</c>,
    /// <c>conf-file</c>, <c>conf-dir</c>, other <c>dhcp-hostsfile</c>s and <c>dhcp-hostsdir</c>s) and reads the reservations and ranges in it,
    /// so entries the module does not own are listed and never clashed with. Read-only; when the configuration
    /// cannot be read (no pid file, no permission) the result is empty and the reason goes to the log.
    /// </summary>
    public static class DnsmasqConfigReader
    {
        private const int MaxRounds = 4;

        /// <summary>
        /// Reads the configuration in as few round trips as the includes allow: the first command reads the command line,
        /// the main config file and (when <paramref name="alsoCat"/> is given) that file too, returned as the second item
        /// (null when it does not exist).
        /// </summary>
        public static async Task<(DnsmasqConfig Config, string? Also)> ReadAsync(IHostTransport transport, string pidFile, string ownHostsFile, string server,
            IOperationLog log, CancellationToken cancellationToken, string? alsoCat = null)
        {
            var sections = new OutputSections();
            var script = new System.Text.StringBuilder();
            if (alsoCat != null) script.Append(ShellQuote.Line($"f={alsoCat}; [ -e \"$f\" ] && {{ {sections.Start("deevnet-also")}; cat \"$f\" || exit 4; }}\n"));
            script.Append(ShellFragments.ReadPid(pidFile, ShellFragments.Exit(0, "no process id in " + pidFile))).Append('\n');
            script.Append("[ -r /proc/$pid/cmdline ] || { echo \"no process $pid\" >&2; exit 0; }\n");
            script.Append(sections.Start("deevnet-cmdline")).Append("; tr '\\000' '\\n' < /proc/$pid/cmdline; echo\n");
            // The main config: --conf-file=X, -CX or -C X on the command line, else dnsmasq's default.
            script.Append("conf=$(tr '\\000' '\\n' < /proc/$pid/cmdline | awk 'p{print;exit} /^-C$|^--conf-file$/{p=1;next} /^--conf-file=/{sub(/^--conf-file=/,\"\");print;exit} /^-C./{sub(/^-C/,\"\");print;exit}')\n");
            script.Append("[ -n \"$conf\" ] || conf=/etc/dnsmasq.conf\n");
            script.Append(ShellQuote.Line($"[ -r \"$conf\" ] && {{ {sections.Start("deevnet-file", ShellFragment.Trusted("\"$conf\""))}; cat \"$conf\"; }}\nexit 0\n"));
            var first = await transport.RunAsync(script.ToString(), cancellationToken).ConfigureAwait(false);
            if (!first.Succeeded) throw DhcpErrors.Response(server, $"cannot read {alsoCat}: {first.StandardError.Trim()}");

            var state = new State(ownHostsFile, server);
            string? also = null;
            var sawCmdline = false;
            foreach (var (name, text) in sections.Split(first.StandardOutput))
            {
                if (name == "deevnet-also") also = text;
                else if (name == "deevnet-cmdline")
                {
                    sawCmdline = true;
                    foreach (var a in text.Split('\n').Skip(1).Where(a => a.StartsWith("--", StringComparison.Ordinal) && !a.StartsWith("--conf-file", StringComparison.Ordinal)))
                        state.Option(a.Substring(2), "command line");
                }
                else if (name.StartsWith("deevnet-file ", StringComparison.Ordinal)) state.File(name.Substring("deevnet-file ".Length), text);
            }
            if (!sawCmdline)
            {
                log.Verbose($"{server}: cannot read dnsmasq's command line ({first.StandardError.Trim()}); reservations in its main configuration are not listed.");
                return (DnsmasqConfig.Empty, also);
            }

            for (var round = 0; round < MaxRounds && (state.PendingFiles.Count > 0 || state.PendingDirs.Count > 0 || state.PendingHosts.Count > 0); round++)
            {
                var includes = new System.Text.StringBuilder();
                var file = ShellFragment.Trusted("\"$f\"");
                // A hosts path is a file or a folder of them (dhcp-hostsfile takes either, dhcp-hostsdir a folder): as in
                // dnsmasq, every regular file in the folder (symbolic links followed) except dot files, editor backups
                // (name~) and #autosaves#. The module's own file is skipped wherever it is linked in: it is read as owned.
                foreach (var h in state.PendingHosts.Distinct())
                    includes.Append(ShellQuote.Line($"h={h}; o={ownHostsFile}; if [ -d \"$h\" ]; then d=1; set -- \"$h\"/*; else d=; set -- \"$h\"; fi\n" +
                        $"for f do [ -n \"$d\" ] && case \"${{f##*/}}\" in .*|*~|\\#*\\#) continue;; esac; [ -f \"$f\" ] && [ -r \"$f\" ] && ! [ \"$f\" -ef \"$o\" ] && {{ {sections.Start("deevnet-hosts", file)}; cat \"$f\"; }}; done\n"));
                foreach (var f in state.PendingFiles.Distinct())
                    includes.Append(ShellQuote.Line($"f={f}; [ -r \"$f\" ] && {{ {sections.Start("deevnet-file", file)}; cat \"$f\"; }}\n"));
                foreach (var (dir, filter) in state.PendingDirs.Distinct())
                    includes.Append(ShellQuote.Line($"for f in {dir}/*; do [ -f \"$f\" ] && [ -r \"$f\" ] && case \"$f\" in {filter}) {sections.Start("deevnet-file", file)}; cat \"$f\";; esac; done\n"));
                includes.Append("exit 0\n");
                state.PendingFiles.Clear();
                state.PendingDirs.Clear();
                state.PendingHosts.Clear();
                var read = await transport.RunAsync(includes.ToString(), cancellationToken).ConfigureAwait(false);
                foreach (var (name, text) in sections.Split(read.StandardOutput))
                {
                    if (name.StartsWith("deevnet-file ", StringComparison.Ordinal)) state.File(name.Substring("deevnet-file ".Length), text);
                    else if (name.StartsWith("deevnet-hosts ", StringComparison.Ordinal)) state.HostsFile(name.Substring("deevnet-hosts ".Length), text);
                }
            }
            return (new DnsmasqConfig(state.Reservations.OrderBy(r => r.ClientId, StringComparer.Ordinal).ToList(), state.Subnets.Distinct().ToList(), state.Read,
                state.LeaseFile ?? "/var/lib/misc/dnsmasq.leases"), also);
        }

        private sealed class State
        {
            private readonly string _ownHostsFile;
            private readonly string _server;

            public State(string ownHostsFile, string server)
            {
                _ownHostsFile = ownHostsFile;
                _server = server;
            }

            public List<string> PendingFiles { get; } = new List<string>();
            public List<string> PendingHosts { get; } = new List<string>();
            public List<(string Dir, ShellFragment Filter)> PendingDirs { get; } = new List<(string, ShellFragment)>();
            public List<DhcpReservation> Reservations { get; } = new List<DhcpReservation>();
            public List<Ipv4Network> Subnets { get; } = new List<Ipv4Network>();
            public List<string> Read { get; } = new List<string>();
            public string? LeaseFile { get; private set; }

            public void File(string file, string text)
            {
                if (Read.Contains(file)) return;
                Read.Add(file);
                foreach (var (line, source) in Lines(file, text)) Option(line, source);
            }

            /// <summary>A hosts file: each line is a <c>dhcp-host</c> value.</summary>
            public void HostsFile(string file, string text)
            {
                if (Read.Contains(file)) return;
                Read.Add(file);
                foreach (var (line, source) in Lines(file, text)) Add(line, source);
            }

            private static IEnumerable<(string Line, string Source)> Lines(string file, string text)
            {
                var lines = text.Replace("\r\n", "\n").Split('\n');
                for (var i = 0; i < lines.Length; i++)
                {
                    var l = lines[i].Trim();
                    if (l.Length == 0 || l[0] == '#') continue;
                    yield return (l, $"{file}:{i + 1}");
                }
            }

            public void Option(string option, string source)
            {
                var eq = option.IndexOf('=');
                var name = eq < 0 ? option : option.Substring(0, eq).Trim();
                var value = eq < 0 ? "" : option.Substring(eq + 1).Trim();
                switch (name)
                {
                    case "dhcp-host":
                        Add(value, source);
                        break;
                    case "dhcp-range":
                        Range(value);
                        break;
                    case "dhcp-hostsfile":
                    case "dhcp-hostsdir":
                        // The module's own file is read separately as owned; any other hosts file is someone else's.
                        if (value != _ownHostsFile && value.Length > 0) PendingHosts.Add(value);
                        break;
                    case "dhcp-leasefile":
                        LeaseFile ??= value;   // the command line comes first and wins, as in dnsmasq
                        break;
                    case "conf-file":
                        if (value.Length > 0) PendingFiles.Add(value);
                        break;
                    case "conf-dir":
                        ConfDir(value);
                        break;
                }
            }

            private void Add(string value, string source)
            {
                var r = DnsmasqHostsFile.TryParseEntry(value, null, _server, source, owned: false);
                if (r != null) Reservations.Add(r);
            }

            private void Range(string value)
            {
                var addresses = new List<IPAddress>();
                foreach (var f in value.Split(','))
                {
                    if (Ipv4Network.TryParseAddress(f.Trim(), out var a)) addresses.Add(a!);
                }
                // start[,end][,netmask[,broadcast]]: a third address is the netmask.
                if (addresses.Count >= 3 && TryPrefix(addresses[2], out var prefix))
                {
                    var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
                    Subnets.Add(new Ipv4Network(Ipv4Network.ToUInt(addresses[0]) & mask, prefix));
                }
            }

            private void ConfDir(string value)
            {
                var parts = value.Split(',').Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
                if (parts.Count == 0) return;
                // conf-dir=dir,*.conf takes only matching files; conf-dir=dir,.bak skips that suffix; plain dir takes all.
                var wanted = parts.Skip(1).Where(p => p.StartsWith("*", StringComparison.Ordinal)).Select(p => "*" + Safe(p.Substring(1))).ToList();
                var filter = wanted.Count > 0 ? string.Join("|", wanted) : "*";
                PendingDirs.Add((parts[0], ShellFragment.Trusted(filter)));   // a case pattern of * and Safe suffixes only
            }

            // Only suffix characters that are inert in a shell case pattern survive.
            private static string Safe(string suffix) => new string(suffix.Where(c => char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_').ToArray());

            private static bool TryPrefix(IPAddress mask, out int prefix)
            {
                var m = Ipv4Network.ToUInt(mask);
                prefix = 0;
                while (prefix < 32 && (m & (0x80000000u >> prefix)) != 0) prefix++;
                return prefix > 0 && (prefix == 32 ? m == uint.MaxValue : (m << prefix) == 0);
            }
        }
    }
}
