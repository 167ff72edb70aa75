using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// Streams one stored backup through <c>age --decrypt</c> into a <see cref="TarPipe"/>: the one path by which
    /// backups are read back (verify and restore). The private key file is handed to age and read by nothing else.
    /// Classifies what went wrong: wrong key, unreadable key, damaged ciphertext (naming the member being read), or
    /// a damaged tar stream.
    /// </summary>
    internal static class BackupReader
    {
        public sealed class Outcome
        {
            public long CipherBytes;
            public string CipherSha256 = "";
            public int AgeExit;
            public string AgeError = "";
            public Exception? TarError;
            public Exception? StoreError;
        }

        public static async Task<Outcome> ReadAsync(BackupStore store, IHostTransport storeTransport, BackupInfo backup, string identityFile,
            TarPipe pipe, Action<long>? onBytes, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var outcome = new Outcome();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var age = AgeProcess.Decrypt(identityFile);
            using var cipher = new MeterStream(age.Input);
            using var plain = new MeterStream(pipe, onBytes, hash: false);
            var readTask = Task.Run(async () =>
            {
                try
                {
                    await store.ReadAsync(storeTransport, backup.Service, backup.FileName, cipher, timeout, linked.Token).ConfigureAwait(false);
                }
                finally
                {
                    age.CloseInput();
                }
            });
            // The tar side's writes block while the host is slower than age: a thread of its own, not the pool's.
            var decryptTask = Transport.OwnThread.Run(() =>
            {
                var buffer = new byte[81920];
                int n;
                while ((n = age.Output.ReadAsync(buffer, 0, buffer.Length, linked.Token).GetAwaiter().GetResult()) > 0) plain.Write(buffer, 0, n);
            });
            try
            {
                await decryptTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                outcome.TarError = ex;
                age.Kill();
                linked.Cancel();
            }
            try
            {
                await readTask.ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // age stops reading when it rejects the key or the header; the store side then fails with a broken pipe.
                if (outcome.TarError == null) outcome.StoreError = ex;
            }
            cancellationToken.ThrowIfCancellationRequested();
            (outcome.AgeExit, outcome.AgeError) = await age.WaitAsync(cancellationToken).ConfigureAwait(false);
            outcome.CipherBytes = cipher.Bytes;
            outcome.CipherSha256 = cipher.Sha256();
            return outcome;
        }

        /// <summary>Fails clearly when the backup cannot be decrypted at all (key missing or wrong).</summary>
        public static void ThrowIfKeyProblem(Outcome outcome, string identityFile, BackupInfo backup)
        {
            if (outcome.AgeExit == 0) return;
            var error = outcome.AgeError;
            if (outcome.AgeExit == 127) throw BackupEngine.AgeFailed(127, error, backup.BackupName);
            if (error.IndexOf("no identity matched", StringComparison.OrdinalIgnoreCase) >= 0)
                throw new BackupException("BackupKeyMismatch", DeevErrorKind.SecurityError,
                    $"The key in {identityFile} does not match backup {backup.BackupName}: it was encrypted to another recipient.", backup.BackupName)
                { RecommendedAction = "Set backup.identityFile to the private key of the recipient the backup was encrypted to." };
            if (error.IndexOf("identity", StringComparison.OrdinalIgnoreCase) >= 0 && (error.IndexOf("open", StringComparison.OrdinalIgnoreCase) >= 0 || error.IndexOf("read", StringComparison.OrdinalIgnoreCase) >= 0 || error.IndexOf("parse", StringComparison.OrdinalIgnoreCase) >= 0))
                throw KeyMissing(identityFile, BackupStore.FirstLine(error));
        }

        public static string RequireIdentity(BackupCatalog catalog, string? overrideFile)
        {
            var file = overrideFile ?? catalog.Settings.IdentityFile;
            if (string.IsNullOrEmpty(file))
                throw new BackupException("BackupKeyMissing", DeevErrorKind.InvalidOperation, "The tier's backup section names no identityFile (the age private key), which verifying and restoring need.", "backup.identityFile");
            if (!File.Exists(file)) throw KeyMissing(file!, "the file does not exist");
            return file!;
        }

        private static BackupException KeyMissing(string file, string why) =>
            new BackupException("BackupKeyMissing", DeevErrorKind.ObjectNotFound, $"The age private key {file} cannot be used: {why}.", file);
    }
}
