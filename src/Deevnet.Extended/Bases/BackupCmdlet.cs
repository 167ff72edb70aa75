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

        /// <summary>Services by name patterns and classes; none given: every service of the tier.</summary>
        protected List<Service> SelectServices(SiteTier tier, string[]? names, ServiceClass[]? classes) =>
            SelectByName(tier.Services, s => s.Name, names, "ServiceNotFound", "service", tier.SourcePath)
                .Where(s => classes == null || classes.Length == 0 || classes.Contains(s.Class))
                .ToList();

        protected override void EndProcessing() => ClosePool();
    }
}
