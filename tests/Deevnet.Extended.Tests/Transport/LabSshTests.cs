using System;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    /// <summary>The SSH transport and managed file against the lab's sshd (in its server namespace).</summary>
    public sealed class LabSshTests
    {
        private static (Via Via, SshTransportOptions Options) Lab() => LabEnvironment.Require().Ssh();

        [LabFact]
        public async Task Runs_commands_and_updates_a_managed_file_on_the_lab_server()
        {
            var (via, options) = Lab();
            using var pool = new TransportPool();
            var ssh = pool.Get(via, options);
            var dir = "/tmp/deev-transport-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            try
            {
                Assert.Equal(0, (await ssh.RunAsync("mkdir " + ShellQuote.Quote(dir), CancellationToken.None)).ExitStatus);
                var file = dir + "/hosts";
                await ManagedFile.UpdateAsync(ssh, file, _ => "one\n", p => "grep -q one " + p, "true", CancellationToken.None);
                var error = await Assert.ThrowsAsync<DeevException>(() => ManagedFile.UpdateAsync(ssh, file, c => c + "two\n", p => "! grep -q two " + p, "true", CancellationToken.None));
                Assert.Equal("BackendValidationFailed", error.ErrorId);
                Assert.Equal("one\n", (await ssh.RunAsync("cat " + ShellQuote.Quote(file), CancellationToken.None)).StandardOutput);
            }
            finally
            {
                await ssh.RunAsync("rm -rf " + ShellQuote.Quote(dir), CancellationToken.None);
            }
        }

        [LabFact]
        public async Task The_lab_server_key_is_known_and_a_wrong_known_hosts_refuses_it()
        {
            var (via, options) = Lab();
            var report = await HostKeyProbe.GetAsync(via.Host, via.Port, options.KnownHostsPath, TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal(HostKeyStatus.Known, report.Status);
            options.KnownHostsPath = "/dev/null";
            using var ssh = new SshTransport(via, options);
            var error = await Assert.ThrowsAsync<TransportException>(() => ssh.RunAsync("true", CancellationToken.None));
            Assert.Equal("HostKeyUnknown", error.ErrorId);
        }
    }
}
