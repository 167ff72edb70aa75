using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Dns;
using Deevnet.Extended.Tests.Lab;

namespace Deevnet.Extended.Tests.Dns
{
    /// <summary>
    /// The lab's hand-made record <c>handmade A 10.231.99.250</c>. Unbound, BIND and PowerDNS get it from lab.sh; dnsmasq
    /// keeps everything the module writes in files of its own, so an operator's record lives in another conf.d file:
    /// this writes one (<c>host-record=</c>) and restarts the supervised lab dnsmasq, and undoes both on dispose.
    /// </summary>
    internal sealed class HandmadeRecord : IDisposable
    {
        private readonly string? _file;

        private HandmadeRecord(string? file) => _file = file;

        public static async Task<HandmadeRecord> EnsureAsync(string kind)
        {
            if (kind != "dnsmasq") return new HandmadeRecord(null);
            var lab = LabEnvironment.Require();
            var file = Path.Combine(lab["DEEV_LAB_DNSMASQ_CONFDIR"], "handmade.conf");
            File.WriteAllText(file, $"host-record=handmade.{lab["DEEV_LAB_DOMAIN"]},10.231.99.250\n");
            await RestartDnsmasqAsync(lab, "handmade." + lab["DEEV_LAB_DOMAIN"], true);
            return new HandmadeRecord(file);
        }

        public void Dispose()
        {
            if (_file == null) return;
            File.Delete(_file);
            var lab = LabEnvironment.Require();
            RestartDnsmasqAsync(lab, "handmade." + lab["DEEV_LAB_DOMAIN"], false).GetAwaiter().GetResult();
        }

        /// <summary>TERM to the supervised dnsmasq (lab.sh restarts it), then wait until the name answers (or not).</summary>
        private static async Task RestartDnsmasqAsync(LabEnvironment lab, string name, bool present)
        {
            var pid = int.Parse(File.ReadAllText(lab["DEEV_LAB_DNSMASQ_PID"]).Trim());
            System.Diagnostics.Process.GetProcessById(pid).Kill();
            var query = new DnsQuery(lab["DEEV_LAB_SSH_HOST"], 53, TimeSpan.FromSeconds(1));
            for (var i = 0; i < 300; i++)
            {
                await Task.Delay(100);
                try
                {
                    var answers = await query.QueryAsync(name, DnsRecordType.A, CancellationToken.None);
                    if ((answers.Count > 0) == present) return;
                }
                catch (Core.Errors.DeevException)
                {
                    // restarting
                }
            }
            throw new TimeoutException($"dnsmasq did not come back with {name} {(present ? "present" : "absent")}.");
        }
    }
}
