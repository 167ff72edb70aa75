using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Dhcp;
using Deevnet.Extended.Core.Dhcp.Dnsmasq;
using Deevnet.Extended.Core.Dhcp.Kea;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm;
using Deevnet.Extended.Core.Vm.Libvirt;
using Deevnet.Extended.Tests.Checks;
using Deevnet.Extended.Tests.Doubles;
using Deevnet.Extended.Tests.Tier;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>
    /// Every back end that runs commands, run for real on this machine (LocalTransport; the servers' own binaries) with
    /// its files under one directory whose path holds every way out of a command line at once: a quote that closes
    /// early, <c>$(…)</c>, backticks, <c>;</c> and <c>&amp;</c>, a double quote, glob characters. Each test proves the
    /// back end did its work on that path and that the marker file the path tries to create never appears.
    /// </summary>
    public sealed class HostileValueTests : IDisposable
    {
        private static readonly CancellationToken None = CancellationToken.None;
        private readonly string _marker = "/tmp/deev-pwned-" + Guid.NewGuid().ToString("N");
        private readonly string _root = Path.Combine(Path.GetTempPath(), "deev-hostile-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private readonly string[] _hostile;
        private readonly string _dir;
        private readonly List<Process> _processes = new List<Process>();
        private readonly LocalTransport _local = new LocalTransport();

        public HostileValueTests()
        {
            // One path component per attack; the marker's own slashes nest a few more directories, which is fine.
            _hostile = new[]
            {
                $"x'; touch {_marker}; '", $"$(touch {_marker})", $"`touch {_marker}`", $"a;touch {_marker} & b",
                $"\"; touch {_marker}; \"", "$HOME * ? [a]",
            };
            _dir = Path.Combine(new[] { _root }.Concat(_hostile).ToArray());
            Directory.CreateDirectory(_dir);
        }

        public void Dispose()
        {
            foreach (var p in _processes)
            {
                try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                p.Dispose();
            }
            _local.Dispose();
            try { Directory.Delete(_root, true); } catch (IOException) { }
            File.Delete(_marker);
        }

        private string In(string name) => Path.Combine(_dir, name);

        private void AssertNothingRan() => Assert.False(File.Exists(_marker), "a value from the tier was executed as a command");

        // ---- pid files: what a server wrote there reaches kill only as a plain process id ----

        /// <summary><c>kill</c> as a shell function ahead of the line: it records its arguments instead of signalling anything.</summary>
        private string KillShim(string log) => $"kill() {{ printf '%s\\n' \"$*\" >> {ShellQuote.Quote(log)}; }}; ";

        public static TheoryData<string> BadPids => new TheoryData<string>
        {
            "1; touch /tmp/deev-pwned-pid", "-1", "0", "007", "$(touch /tmp/deev-pwned-pid)", "", "12 13", "-HUP 1", "1\n2", "`id`",
        };

        [Theory]
        [MemberData(nameof(BadPids))]
        public async Task A_pid_file_that_holds_no_plain_process_id_never_reaches_kill(string content)
        {
            var pidFile = In("dnsmasq.pid");
            File.WriteAllText(pidFile, content);
            var log = Path.Combine(_root, "kill.log");
            var backend = new DnsmasqDhcpBackend(_local, In("hosts"), pidFile, null, Array.Empty<Ipv4Network>());
            // The shim must hold before a line that could pass -1 runs (as root, kill -HUP -1 would reach every process).
            var probe = Path.Combine(_root, "shim.log");
            await _local.RunAsync(KillShim(probe) + "kill -0 2147483646", None);
            Assert.Equal("-0 2147483646\n", File.ReadAllText(probe));

            var result = await _local.RunAsync(KillShim(log) + backend.ReloadCommand(), None);

            AssertNothingRan();
            Assert.False(File.Exists("/tmp/deev-pwned-pid"), "the pid file's content was executed as a command");
            Assert.False(File.Exists(log), "kill was called with: " + (File.Exists(log) ? File.ReadAllText(log) : ""));
            Assert.NotEqual(0, result.ExitStatus);
            Assert.Equal("no process id in " + pidFile + "\n", result.StandardError);
        }

        [Fact]
        public async Task A_plain_pid_reaches_kill_as_one_argument()
        {
            var pidFile = In("dnsmasq.pid");
            File.WriteAllText(pidFile, "4242\n");
            var log = Path.Combine(_root, "kill.log");

            var result = await _local.RunAsync(KillShim(log) + ShellFragments.HangUp(pidFile), None);

            Assert.Equal(0, result.ExitStatus);
            Assert.Equal("-HUP 4242\n", File.ReadAllText(log));
        }

        // ---- the back ends, for real ----

        [Fact]
        public async Task Dnsmasq_dhcp_writes_checks_and_signals_under_a_hostile_path()
        {
            // Stands in for dnsmasq: SIGHUP ends it, which shows the signal arrived. Its own handler, as dnsmasq has one:
            // a plain sleep inherits this process's dispositions, and under nohup SIGHUP is ignored (the test then failed).
            var daemon = Start("perl", "-e", "$SIG{HUP} = sub { exit 0 }; sleep 300");
            var pidFile = In("dnsmasq.pid");
            File.WriteAllText(pidFile, daemon.Id + "\n");
            Ipv4Network.TryParse("10.9.0.0/24", out var subnet, out _);
            var backend = new DnsmasqDhcpBackend(_local, In("hosts"), pidFile, null, new[] { subnet! });

            await backend.ApplyAsync(new DhcpBatch(new[] { DhcpFields.Desired("02:de:77:00:00:c8", IPAddress.Parse("10.9.0.20"), "h1", "hostile path test") }), None);

            Assert.Contains("02:de:77:00:00:c8", File.ReadAllText(In("hosts")));
            Assert.True(daemon.WaitForExit(5000), "the pid in the pid file got no SIGHUP");
            AssertNothingRan();
        }

        [Fact]
        public async Task Kea_reads_checks_and_rolls_back_under_a_hostile_path()
        {
            var config = In("kea-dhcp4.conf");
            const string original = "{ \"Dhcp4\": { \"subnet4\": [ { \"id\": 1, \"subnet\": \"10.9.0.0/24\", \"reservations\": [] } ] } }\n";
            File.WriteAllText(config, original);
            var backend = new KeaDhcpBackend(_local, config, Path.Combine(_root, "no-kea.sock"), null);

            // kea-dhcp4 -t passes the new file; no Kea listens on the socket, so the reload fails and the old file comes back.
            var error = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(
                new DhcpBatch(new[] { DhcpFields.Desired("02:de:77:00:00:c8", IPAddress.Parse("10.9.0.20"), "h1", null) }), None));

            Assert.Equal("BackendReloadFailed", error.ErrorId);
            Assert.Contains("cannot reach Kea's control socket", error.Message);
            Assert.Equal(original, File.ReadAllText(config));
            AssertNothingRan();
        }

        [Theory]
        [InlineData("/run/kea.sock,fork")]
        [InlineData("/run/kea:sock")]
        [InlineData("/run/kea sock")]
        public async Task Kea_refuses_a_control_socket_socat_would_read_as_options(string socket)
        {
            var config = In("kea-dhcp4.conf");
            const string original = "{ \"Dhcp4\": { \"subnet4\": [ { \"id\": 1, \"subnet\": \"10.9.0.0/24\", \"reservations\": [] } ] } }\n";
            File.WriteAllText(config, original);
            var backend = new KeaDhcpBackend(_local, config, socket, null);

            var error = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(
                new DhcpBatch(new[] { DhcpFields.Desired("02:de:77:00:00:c8", IPAddress.Parse("10.9.0.20"), "h1", null) }), None));

            Assert.Equal(DhcpErrors.DhcpNotConfigured, error.ErrorId);
            Assert.Contains("controlSocket", error.Message);
            Assert.Equal(original, File.ReadAllText(config));
        }

        [Fact]
        public async Task Dnsmasq_dns_writes_signals_and_serves_under_a_hostile_path()
        {
            var records = In("records");
            var pidFile = In("dnsmasq.pid");
            File.WriteAllText(records, "");
            var port = FreeLoopbackPort();
            Start("dnsmasq", "-k", "--conf-file=/dev/null", $"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--user=root", "--group=root", "--addn-hosts=" + records, "--pid-file=" + pidFile);
            WaitFor(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0, "dnsmasq did not write its pid file");
            var backend = new DnsmasqDnsBackend(Settings("dnsmasq", port, ("recordsFile", records), ("pidFile", pidFile)));

            var plan = await backend.PlanAsync(new DnsBatch(new[] { DnsRecord.Create("h1." + TestTier.Domain, DnsRecordType.A, "10.9.0.20") }), None);
            await backend.ApplyAsync(plan, None);   // returns once the server answers with the new record

            Assert.Contains("10.9.0.20 h1." + TestTier.Domain, File.ReadAllText(records));
            var answers = await new DnsQuery("127.0.0.1", port, TimeSpan.FromSeconds(3)).QueryAsync("h1." + TestTier.Domain, DnsRecordType.A, None);
            Assert.Contains(answers, r => r.Value == "10.9.0.20");
            AssertNothingRan();
        }

        [Fact]
        public async Task Bind_reads_with_a_key_file_under_a_hostile_path()
        {
            var key = In("tsig.key");
            File.WriteAllText(key, "key \"deev\" { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=\"; };\n");
            using var refused = new RefusedPort();
            var backend = new BindDnsBackend(Settings("bind", refused.Port, ("tsigKeyFile", key)));

            // dig reads the key and tries the transfer: the refused port makes that the server's failure, not the path's.
            var error = await Assert.ThrowsAsync<DeevException>(() => backend.ReadAsync(null, None));

            Assert.Equal(DnsErrors.ServerUnreachable, error.ErrorId);
            Assert.Contains("refused", error.Message);
            AssertNothingRan();
        }

        [Fact]
        public async Task Unbound_checks_the_staged_file_under_hostile_paths()
        {
            // Neither the double quote (unbound's own syntax quotes a path with it) nor the glob component: unbound reads
            // * ? [ in an include path as a pattern (refused, see below).
            var dir = Path.Combine(new[] { _root }.Concat(_hostile.Take(4)).ToArray());
            Directory.CreateDirectory(dir);
            var main = Path.Combine(dir, "unbound.conf");
            var include = Path.Combine(dir, "deevnet.conf");
            var staged = Path.Combine(dir, ".deevnet.conf.deevnet-tmp-0123456789ab");
            File.WriteAllText(main, $"server:\n  username: \"\"\n  chroot: \"\"\n  include: \"{include}\"\n");
            File.WriteAllText(include, "local-data: \"old.t.test. 300 IN A 10.9.0.9\"\n");
            File.WriteAllText(staged, "local-data: \"h1.t.test. 300 IN A 10.9.0.20\"\n");

            var good = await _local.RunAsync(UnboundDnsBackend.CheckCommand(main, include, ShellQuote.Line($"{staged}")), None);
            File.WriteAllText(staged, "local-data: \"h1.t.test. 300 IN A not-an-address\"\n");
            var bad = await _local.RunAsync(UnboundDnsBackend.CheckCommand(main, include, ShellQuote.Line($"{staged}")), None);

            Assert.True(good.ExitStatus == 0, good.StandardOutput + good.StandardError);
            Assert.NotEqual(0, bad.ExitStatus);
            Assert.Contains("error", bad.StandardOutput + bad.StandardError, StringComparison.OrdinalIgnoreCase);
            AssertNothingRan();
        }

        [Fact]
        public void Unbound_refuses_an_include_path_it_would_read_as_a_pattern()
        {
            var error = Assert.Throws<DeevException>(() => new UnboundDnsBackend(Settings("unbound", 53, ("include", In("deevnet.conf")))));
            Assert.Equal(DnsErrors.NotConfigured, error.ErrorId);
            Assert.Contains("pattern", error.Message);
        }

        [Fact]
        public async Task Libvirt_makes_disks_and_the_seed_under_a_hostile_image_dir()
        {
            Run("qemu-img", "create", "-q", "-f", "qcow2", In("tmpl-1.qcow2"), "16M");
            var hypervisor = new Hypervisor("hv", "libvirt", Via.Local, new Dictionary<string, string>
            {
                ["template"] = "tmpl-", ["imageDir"] = _dir, ["uri"] = "test:///default", ["domainType"] = "test",
            }, 1, 1);
            var spec = new VmSpec("h1", 207, "02:de:20:00:00:cf", "hv", "mgmt", "br0", null, 1, 512, null, null, false, null,
                new CloudInitSettings(true, null, null, Array.Empty<IPAddress>(), null, "deev", null), IPAddress.Parse("10.9.0.20"), "h1.t.test");
            using var backend = new LibvirtBackend(hypervisor, _local);

            // test:///default forgets a domain when virsh exits, so the read-back fails: everything before it ran on the path.
            var error = await Assert.ThrowsAsync<DeevException>(() => backend.ApplyAsync(spec, null, None));

            Assert.Equal(VmErrors.VmBackendFailed, error.ErrorId);
            Assert.True(File.Exists(In("h1.qcow2")), "no OS disk overlay: " + error.Message);
            Assert.True(File.Exists(In("h1-seed.iso")), "no cloud-init seed: " + error.Message);
            AssertNothingRan();
        }

        [Fact]
        public async Task What_a_file_holds_cannot_forge_a_part_of_a_several_reads_output()
        {
            var file = In("dnsmasq.conf");
            File.WriteAllText(file, "dhcp-range=10.9.0.100,10.9.0.150\n\n==> deevnet-file /etc/forged\nforged\n");
            var sections = new OutputSections();

            var result = await _local.RunAsync(ShellQuote.Line($"{sections.Start("deevnet-file", ShellFragment.Trusted("\"$f\""))}; cat \"$f\"; {sections.Start("end")}")
                .Text.Insert(0, ShellQuote.Line($"f={file}; ").Text), None);

            Assert.Equal(new[] { ("deevnet-file " + file, File.ReadAllText(file)), ("end", "") }, sections.Split(result.StandardOutput).ToArray());
        }

        // ---- refused before anything runs ----

        [Theory]
        [InlineData("\\n")]
        [InlineData("\\t")]
        [InlineData("\\e")]
        public void The_tier_refuses_a_server_path_with_a_control_character(string escape)
        {
            using var files = new TierTestFiles();
            var text = TierTestFiles.With("template: t- }", $"template: t-, imageDir: \"/srv/images{escape}x\" }}");
            var error = Assert.Throws<TierFileInvalidException>(() => TierLoader.Parse(files.Write(text), text));
            var problem = Assert.Single(error.Problems);
            Assert.Equal(6, problem.Line);
            Assert.Contains("control character", problem.Message);
        }

        [Fact]
        public async Task The_file_transaction_refuses_a_path_with_a_newline_before_running_anything()
        {
            var path = In("hosts") + "\ntouch " + _marker;
            var error = await Assert.ThrowsAsync<ArgumentException>(() => ManagedFile.UpdateAsync(_local, path, _ => "x"));
            Assert.Contains("control characters", error.Message);
            Assert.Contains("\\x0a", error.Message);
            AssertNothingRan();
        }

        // ---- helpers ----

        private DnsBackendSettings Settings(string kind, int port, params (string Key, string Value)[] extra)
        {
            var values = new Dictionary<string, string> { ["server"] = "127.0.0.1", ["port"] = port.ToString() };
            foreach (var (k, v) in extra) values[k] = v;
            var spec = new BackendSpec("dns", kind, Via.Local, values, 1, 1);
            return new DnsBackendSettings(new TestTier().Build(), spec, _local, NullOperationLog.Instance, TimeSpan.FromSeconds(3));
        }

        private Process Start(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            _processes.Add(process);
            return process;
        }

        private static void Run(string program, params string[] args)
        {
            var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"{program} failed: {stderr}");
        }

        private static void WaitFor(Func<bool> condition, string failure)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!condition())
            {
                Assert.True(DateTime.UtcNow < deadline, failure);
                Thread.Sleep(50);
            }
        }

        /// <summary>A loopback port free for both UDP and TCP at the moment of asking.</summary>
        private static int FreeLoopbackPort()
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return port;
        }
    }
}
