using System;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Checks.Readers
{
    /// <summary>The newest good backup of a service, through the backup store's catalog.</summary>
    public sealed class BackupCatalogReader : IBackupCatalog
    {
        private readonly Lazy<BackupCatalog> _catalog;

        public BackupCatalogReader(SiteTier tier, TransportPool pool) =>
            _catalog = new Lazy<BackupCatalog>(() => new BackupCatalog(tier, via => pool.Get(via, tier.Access)));

        public async Task<BackupView?> NewestGoodAsync(string service, CancellationToken cancellationToken)
        {
            var newest = await _catalog.Value.NewestGoodAsync(service, cancellationToken).ConfigureAwait(false);
            return newest == null ? null : new BackupView(newest.BackupName, new DateTimeOffset(DateTime.SpecifyKind(newest.Time, DateTimeKind.Utc)));
        }
    }
}
