using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;
using Deevnet.Extended.Core.Vm.Libvirt;
using Deevnet.Extended.Tests.Lab;
using Deevnet.Extended.Tests.LabSelfTests;
using Xunit;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>
    /// The lab's libvirtd is shared: a domain another writer undefines between the module's list and its read is gone,
    /// not an error (seen in CI: "failed to get domain" while a lab self-test removed its own domain).
    /// </summary>
    public class LibvirtReadRaceTests
    {
        [LabFact]
        public async Task A_domain_undefined_between_list_and_read_is_skipped()
        {
            var lab = LabEnvironment.Require();
            var uri = lab["DEEV_LAB_LIBVIRT_URI"];
            var name = LabProcess.RandomGuestName(LabProcess.SelfTestPrefix);
            var xml = Path.GetTempFileName();
            File.WriteAllText(xml, $"<domain type='test'><name>{name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>");
            try
            {
                var define = LabProcess.Run("virsh", "-c", uri, "define", xml);
                Assert.True(define.ExitCode == 0, define.ToString());
                using var local = new LocalTransport();
                // The real virsh on the real daemon; the domain goes away just before the definitions are read.
                var racing = new UndefineBeforeRead(local, () => LabProcess.Run("virsh", "-c", uri, "undefine", name));
                var hypervisor = new Hypervisor("hv", "libvirt", Via.Local, new Dictionary<string, string> { ["uri"] = uri, ["template"] = "t-" }, 1, 1);
                using var backend = new LibvirtBackend(hypervisor, racing);
                var vms = await backend.ListAsync(CancellationToken.None);
                Assert.True(racing.Fired, "the domain was not removed between list and read: the test proved nothing");
                Assert.DoesNotContain(vms, v => v.Name == name);
            }
            finally
            {
                LabProcess.Run("virsh", "-c", uri, "undefine", name);
                File.Delete(xml);
            }
        }

        /// <summary>Runs every command for real; before the first definitions read, runs <c>race</c> once.</summary>
        private sealed class UndefineBeforeRead : IHostTransport
        {
            private readonly IHostTransport _inner;
            private readonly Action _race;

            public UndefineBeforeRead(IHostTransport inner, Action race)
            {
                _inner = inner;
                _race = race;
            }

            public bool Fired { get; private set; }

            public Via Via => _inner.Via;

            public Task<CommandResult> RunAsync(string commandLine, CancellationToken cancellationToken, string? standardInput = null, TimeSpan? timeout = null)
            {
                if (!Fired && commandLine.Contains("dumpxml", StringComparison.Ordinal))
                {
                    Fired = true;
                    _race();
                }
                return _inner.RunAsync(commandLine, cancellationToken, standardInput, timeout);
            }

            public Task<CommandResult> RunAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null) =>
                _inner.RunAsync(commandLine, standardOutput, cancellationToken, standardInput, timeout);

            public void Dispose()
            {
            }
        }
    }
}
