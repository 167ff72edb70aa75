using System.Collections.Generic;
using System.Linq;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>One service as Get-DeevService emits it: where it runs, the names it answers to, what is backed up.</summary>
    public sealed class ServiceInfo
    {
        public ServiceInfo(SiteTier tier, Service service)
        {
            Definition = service;
            Name = service.Name;
            Class = service.Class;
            HostName = service.Host;
            Names = service.Names;
            Fqdn = service.Names.Select(tier.FqdnOf).ToArray();
            var host = tier.FindHost(service.Host)!;
            IPAddress = host.IPAddress.ToString();
            Segment = host.Segment;
            Backup = service.Backup;
            Checks = service.Checks;
            TierPath = tier.SourcePath;
        }

        public string Name { get; }

        /// <summary>The same as <see cref="Name"/>, for cmdlets that bind <c>-Service</c>.</summary>
        public string Service => Name;
        public ServiceClass Class { get; }
        public string HostName { get; }

        /// <summary>CNAMEs without the domain.</summary>
        public IReadOnlyList<string> Names { get; }

        /// <summary>The FQDN of every CNAME of the service.</summary>
        public IReadOnlyList<string> Fqdn { get; }
        public string IPAddress { get; }
        public string Segment { get; }
        public ServiceBackup Backup { get; }
        public IReadOnlyList<CheckSpec> Checks { get; }
        public string TierPath { get; }

        /// <summary>The service as the tier declares it.</summary>
        public Service Definition { get; }
    }
}
