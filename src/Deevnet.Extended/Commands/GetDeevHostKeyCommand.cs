using System;
using System.Management.Automation;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Commands
{
    /// <summary>
    /// Shows the host key a server offers (type, SHA256 fingerprint) and whether known_hosts knows it, has a different
    /// one, or has none, and whether it is trusted only as a rebuilt VM's first-boot key; <c>-Add</c> records it
    /// (<c>-FirstBoot</c>: as a temporary first-boot key). The server is never logged in to.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "DeevHostKey", DefaultParameterSetName = HostNameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(HostKeyReport))]
    public sealed class GetDeevHostKeyCommand : HostAccessCmdlet
    {
        /// <summary>Host name or address, or the name of a host in the tier.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = HostNameSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        public string[] HostName { get; set; } = Array.Empty<string>();

        /// <summary>SSH port. Default: 22 (or the port of the tier host's via).</summary>
        [Parameter(ParameterSetName = HostNameSet, ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, 65535)]
        public int Port { get; set; } = 22;

        /// <summary>Record the offered key in known_hosts when it is not recorded yet.</summary>
        [Parameter]
        public SwitchParameter Add { get; set; }

        /// <summary>
        /// With -Add: record the key as a temporary first-boot key (marked, beside the recorded one, never instead of
        /// it), which Remove-DeevHostKey -FirstBoot removes once the host offers its lasting key again.
        /// </summary>
        [Parameter]
        public SwitchParameter FirstBoot { get; set; }

        /// <summary>With -Add: replace a recorded key that differs from the offered one (after checking it out of band).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Seconds to wait for the server. Default: 10.</summary>
        [Parameter]
        [ValidateDeevTimeout]
        public int TimeoutSec { get; set; } = 10;

        protected override void ProcessRecord()
        {
            ForEachKeyEndpoint(HostName, Port, Probe);
        }

        private void Probe(string label, string host, int port, string knownHostsPath)
        {
            HostKeyReport report;
            try
            {
                report = RunAsync(token => HostKeyProbe.GetAsync(host, port, knownHostsPath, TimeSpan.FromSeconds(TimeoutSec), token));
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return;
            }
            WriteVerbose($"{host}:{port} offers {report.KeyType} {report.Fingerprint}: {report.Status} in {knownHostsPath}.");
            if (Add) report = Record(report, host, port, knownHostsPath);
            WriteObject(report);
        }

        private HostKeyReport Record(HostKeyReport report, string host, int port, string knownHostsPath)
        {
            var target = $"{host}:{port} in {knownHostsPath}";
            switch (report.Status)
            {
                // A key trusted only for a first boot becomes lasting with -Add (without -FirstBoot).
                case HostKeyStatus.Known when FirstBoot || !report.IsFirstBootKey:
                    WriteVerbose($"{target}: the key is already recorded (line {report.KnownHostsLine}); nothing to add.");
                    return report;
                case HostKeyStatus.Revoked:
                    WriteDeevError(report.ToException()!);
                    return report;
                case HostKeyStatus.Changed when !Force:
                    var refused = new TransportException("HostKeyMismatch", DeevErrorKind.SecurityError,
                        $"Not adding the key of {host}:{port}: {knownHostsPath} line {report.KnownHostsLine} records {report.RecordedFingerprint}, the server offers {report.Fingerprint}. " +
                        "A changed key can mean someone is intercepting the connection.", $"{host}:{port}")
                    { RecommendedAction = "Check the fingerprint on the server's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub); if the change is expected, run again with -Add -Force." };
                    WriteDeevError(refused);
                    return report;
            }
            var action = FirstBoot ? $"Trust {report.KeyType} {report.Fingerprint} for the host's first boot, beside the recorded keys"
                : report.Status == HostKeyStatus.Changed
                ? $"Replace recorded key {report.RecordedFingerprint} (line {report.KnownHostsLine}) with {report.KeyType} {report.Fingerprint}"
                : $"Record {report.KeyType} {report.Fingerprint}";
            if (!ShouldProcess(target, action)) return report;
            try
            {
                KnownHostsFile.Add(knownHostsPath, host, port, report.Key, retireConflicting: !FirstBoot && (report.Status == HostKeyStatus.Changed || Force), firstBoot: FirstBoot);
            }
            catch (DeevException ex)
            {
                WriteDeevError(ex);
                return report;
            }
            return new HostKeyReport(report.HostName, port, KnownHostsFile.Load(knownHostsPath).Check(host, port, report.Key));
        }
    }
}
