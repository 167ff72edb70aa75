using System;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// A backup, verification or restore failed. Ids are public contract (tests and runbooks match on them):
    /// <c>BackupNotConfigured</c>, <c>BackupNotNeeded</c>, <c>BackupBeforeFailed</c>, <c>BackupArchiveFailed</c>,
    /// <c>BackupAfterFailed</c>, <c>BackupInterrupted</c>, <c>BackupStoreFailed</c>, <c>BackupToolMissing</c>,
    /// <c>BackupEncryptFailed</c>, <c>BackupNotFound</c>, <c>BackupKeyMissing</c>, <c>BackupKeyMismatch</c>,
    /// <c>BackupCorrupted</c>, <c>BackupManifestInvalid</c>, <c>BackupVerificationFailed</c>, <c>RestoreFailed</c>,
    /// <c>RestoreVerificationFailed</c>, <c>BackupUnauthenticated</c>, <c>BackupSigningKeyMissing</c>,
    /// <c>BackupSigningFailed</c>, <c>BackupSignersMissing</c>.
    /// </summary>
    public sealed class BackupException : DeevException
    {
        public BackupException(string errorId, DeevErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(errorId, kind, message, target, inner)
        {
        }
    }
}
