using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Deevnet.Extended.Commands;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>Get-DeevHostKey and Invoke-DeevHostCommand hosted in-process against the private sshd.</summary>
    [Collection(SshServerCollection.Name)]
    public sealed class HostCmdletTests
    {
        private readonly SshServerFixture _sshd;

        public HostCmdletTests(SshServerFixture sshd) => _sshd = sshd;

        private static PowerShell NewShell()
        {
            var iss = InitialSessionState.CreateDefault2();
            iss.Commands.Add(new SessionStateCmdletEntry("Get-DeevHostKey", typeof(GetDeevHostKeyCommand), null));
            iss.Commands.Add(new SessionStateCmdletEntry("Invoke-DeevHostCommand", typeof(InvokeDeevHostCommandCommand), null));
            return PowerShell.Create(iss);
        }

        private string ViaText => $"ssh://{_sshd.User}@127.0.0.1:{_sshd.Port}";

        private PowerShell Invoke(PowerShell ps, string command, params string[] arguments)
        {
            ps.AddCommand("Invoke-DeevHostCommand").AddParameter("Via", ViaText).AddParameter("Command", command)
                .AddParameter("KeyFile", _sshd.ClientKey).AddParameter("KnownHostsPath", _sshd.KnownHostsPath);
            if (arguments.Length > 0) ps.AddParameter("ArgumentList", arguments);
            return ps;
        }

        [Fact]
        public void Invoke_returns_host_exit_status_stdout_stderr_and_duration()
        {
            using var ps = NewShell();
            var result = Invoke(ps, "echo out; echo err >&2; exit 4").Invoke<HostCommandResult>().Single();
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(("127.0.0.1", 4, "out\n", "err\n"), (result.HostName, result.ExitStatus, result.StandardOutput, result.StandardError));
            Assert.True(result.Duration > TimeSpan.Zero);
        }

        [Fact]
        public void Invoke_quotes_each_argument_of_the_argument_list()
        {
            var marker = _sshd.NewPath("pwned");
            using var ps = NewShell();
            var result = Invoke(ps, "printf '[%s]'", $"a;touch {marker}", "b c", "$(id)", "`id`", "it's").Invoke<HostCommandResult>().Single();
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal($"[a;touch {marker}][b c][$(id)][`id`][it's]", result.StandardOutput);
            Assert.False(File.Exists(marker));
        }

        [Fact]
        public void Invoke_for_several_pipeline_inputs_uses_one_connection()
        {
            var before = _sshd.AcceptedLogins;
            using var ps = NewShell();
            ps.AddScript("param($via, $key, $kh) 1..3 | ForEach-Object { [pscustomobject]@{ Via = $via } } | Invoke-DeevHostCommand -Command 'echo hi' -KeyFile $key -KnownHostsPath $kh")
                .AddArgument(ViaText).AddArgument(_sshd.ClientKey).AddArgument(_sshd.KnownHostsPath);
            var results = ps.Invoke<HostCommandResult>();
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(3, results.Count);
            Assert.Equal(before + 1, _sshd.AcceptedLogins);
        }

        [Fact]
        public void Invoke_with_an_unknown_host_key_writes_HostKeyUnknown_and_runs_nothing()
        {
            var empty = _sshd.NewPath("kh");
            var marker = _sshd.NewPath("ran");
            using var ps = NewShell();
            var output = ps.AddCommand("Invoke-DeevHostCommand").AddParameter("Via", ViaText).AddParameter("Command", "touch " + ShellQuote.Quote(marker))
                .AddParameter("KeyFile", _sshd.ClientKey).AddParameter("KnownHostsPath", empty).Invoke();
            Assert.Empty(output);
            var error = Assert.Single(ps.Streams.Error);
            Assert.Equal("HostKeyUnknown,Deevnet.Extended.Commands.InvokeDeevHostCommandCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
            Assert.False(File.Exists(marker));
        }

        [Fact]
        public void Invoke_WhatIf_runs_nothing()
        {
            var marker = _sshd.NewPath("ran");
            using var ps = NewShell();
            var output = ps.AddCommand("Invoke-DeevHostCommand").AddParameter("Via", ViaText).AddParameter("Command", "touch " + ShellQuote.Quote(marker))
                .AddParameter("KeyFile", _sshd.ClientKey).AddParameter("KnownHostsPath", _sshd.KnownHostsPath).AddParameter("WhatIf").Invoke();
            Assert.Empty(output);
            Assert.False(File.Exists(marker));
        }

        [Fact]
        public void Invoke_by_tier_host_name_without_a_tier_says_how_to_reach_it()
        {
            using var ps = NewShell();
            ps.AddCommand("Invoke-DeevHostCommand").AddParameter("HostName", "dv02obs001v01").AddParameter("Command", "true").Invoke();
            Assert.Equal("HostNotFound", Assert.Single(ps.Streams.Error).FullyQualifiedErrorId.Split(',')[0]);
        }

        [Fact]
        public void Get_key_reports_unknown_then_Add_records_it_and_reports_known()
        {
            var knownHosts = _sshd.NewPath("kh");
            using var ps = NewShell();
            var unknown = ps.AddCommand("Get-DeevHostKey").AddParameter("HostName", "127.0.0.1").AddParameter("Port", _sshd.Port)
                .AddParameter("KnownHostsPath", knownHosts).Invoke<HostKeyReport>().Single();
            Assert.Equal(HostKeyStatus.Unknown, unknown.Status);
            Assert.Equal(TestShell.KeygenFingerprint(_sshd.HostKeyEd25519 + ".pub"), unknown.Fingerprint);
            Assert.False(File.Exists(knownHosts));

            ps.Commands.Clear();
            var added = ps.AddCommand("Get-DeevHostKey").AddParameter("HostName", "127.0.0.1").AddParameter("Port", _sshd.Port)
                .AddParameter("KnownHostsPath", knownHosts).AddParameter("Add").Invoke<HostKeyReport>().Single();
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(HostKeyStatus.Known, added.Status);
            Assert.Contains($"[127.0.0.1]:{_sshd.Port} ssh-ed25519 ", File.ReadAllText(knownHosts));
            Assert.Contains(_sshd.Port.ToString(), TestShell.Run("ssh-keygen", "-F", $"[127.0.0.1]:{_sshd.Port}", "-f", knownHosts));
        }

        [Fact]
        public void Get_key_Add_refuses_a_changed_key_unless_Force()
        {
            var dir = _sshd.NewPath("other");
            Directory.CreateDirectory(dir);
            var recorded = TestShell.KeyPair(dir, "recorded") + ".pub";
            var knownHosts = _sshd.NewPath("kh");
            File.WriteAllText(knownHosts, _sshd.KnownHostsLine(recorded) + "\n");
            using var ps = NewShell();
            var report = ps.AddCommand("Get-DeevHostKey").AddParameter("Via", ViaText).AddParameter("KnownHostsPath", knownHosts).AddParameter("Add")
                .Invoke<HostKeyReport>().Single();
            Assert.Equal(HostKeyStatus.Changed, report.Status);
            Assert.Equal(TestShell.KeygenFingerprint(recorded), report.RecordedFingerprint);
            var error = Assert.Single(ps.Streams.Error);
            Assert.Equal("HostKeyMismatch", error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("-Force", error.ErrorDetails?.RecommendedAction ?? error.Exception.Message);
            Assert.Equal(_sshd.KnownHostsLine(recorded) + "\n", File.ReadAllText(knownHosts));

            ps.Commands.Clear();
            ps.Streams.Error.Clear();
            var forced = ps.AddCommand("Get-DeevHostKey").AddParameter("Via", ViaText).AddParameter("KnownHostsPath", knownHosts).AddParameter("Add").AddParameter("Force")
                .Invoke<HostKeyReport>().Single();
            Assert.False(ps.HadErrors, string.Join("\n", ps.Streams.Error));
            Assert.Equal(HostKeyStatus.Known, forced.Status);
            var lines = File.ReadAllLines(knownHosts);
            Assert.StartsWith("#deevnet-replaced ", lines[0]);
            Assert.Equal(2, lines.Length);
        }

        [Fact]
        public void Get_key_Add_WhatIf_writes_nothing()
        {
            var knownHosts = _sshd.NewPath("kh");
            using var ps = NewShell();
            var report = ps.AddCommand("Get-DeevHostKey").AddParameter("Via", ViaText).AddParameter("KnownHostsPath", knownHosts)
                .AddParameter("Add").AddParameter("WhatIf").Invoke<HostKeyReport>().Single();
            Assert.Equal(HostKeyStatus.Unknown, report.Status);
            Assert.False(File.Exists(knownHosts));
        }
    }
}
