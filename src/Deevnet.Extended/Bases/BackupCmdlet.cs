using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended
{
    /// <summary>
    /// Shared by the four backup cmdlets: transports from the invocation's pool (one SSH connection per host and
    /// store), service selection by name and class, and terminating errors for a tier without a backup section.
    /// </summary>
    public abstract class BackupCmdlet : TierCmdlet
    {
        /// <summary>The pool's transport for a via, logging in as the tier's <c>access</c> says.</summary>
        protected System.Func<Via, IHostTransport> Transports(SiteTier tier)
        {
            var pool = Pool;
            return via => pool.Get(via, tier.Access);
        }

        protected BackupCatalog Catalog(SiteTier tier)
        {
            try
            {
                return new BackupCatalog(tier, Transports(tier));
            }
            catch (DeevException ex)
            {
                ThrowDeevError(ex);
                throw;
            }
        }

        /// <summary>
        /// Services by name patterns and classes; none given: every service of the tier. A management host piped in
        /// (<c>Get-DeevMgmtHost x | …</c>) selects that host's services: a host binds as a host everywhere, although its
        /// <c>Name</c> property also reached the service-name parameter by property name.
        /// </summary>
        protected List<Service> SelectServices(SiteTier tier, string[]? names, ServiceClass[]? classes, PSObject? pipedObject = null)
        {
            var piped = pipedObject?.BaseObject;
            if (piped is string name) names = new[] { name };   // 'metrics' | Backup-DeevService
            else if (piped != null && piped is not MgmtHostInfo && (names == null || names.Length == 0))
            {
                // Something piped that names no service: never read as "every service".
                WriteError(NewError("ServiceNotFound", ErrorCategory.InvalidArgument,
                    $"The piped {piped.GetType().Name} names no service (no Name or Service property, not a host).", piped));
                return new List<Service>();
            }
            var services = piped is MgmtHostInfo host
                ? tier.ServicesOn(host.Name)
                : SelectByName(tier.Services, s => s.Name, names, "ServiceNotFound", "service", tier.SourcePath);
            return services.Where(s => classes == null || classes.Length == 0 || classes.Contains(s.Class)).ToList();
        }

        protected override void EndProcessing() => ClosePool();
    }
}
