using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Tier;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>Whether a backup's origin is proven.</summary>
    public enum BackupSignature
    {
        /// <summary>Its seal verifies against the tier's allowed signers and names this very archive.</summary>
        Valid,

        /// <summary>It has no seal (taken before signing was turned on, or planted by someone without the key).</summary>
        Missing,

        /// <summary>It has a seal that does not verify or does not belong to it: never accepted, not even with -AllowUnsigned.</summary>
        Invalid,

        /// <summary>The tier names no <c>backup.allowedSignersFile</c>, so nothing can be checked.</summary>
        Unchecked,
    }

    /// <summary>
    /// Signs and verifies backup seals with OpenSSH (<c>ssh-keygen -Y sign</c> / <c>-Y verify</c>, namespace
    /// <c>deevnet-backup</c>): the private key (<c>backup.signingKeyFile</c>) is needed only where backups are taken
    /// and is read by ssh-keygen alone; everything that reads backups needs only the public keys in
    /// <c>backup.allowedSignersFile</c>, so a machine that can verify cannot sign. ssh-keygen never prompts: a key with
    /// a passphrase must be in ssh-agent, named by its <c>.pub</c> file.
    /// </summary>
    public sealed class BackupSigner
    {
        /// <summary>The ssh-keygen executable: <c>$DEEV_SSH_KEYGEN</c> or <c>ssh-keygen</c> on PATH.</summary>
        public static string Executable => Environment.GetEnvironmentVariable("DEEV_SSH_KEYGEN") is { Length: > 0 } e ? e : "ssh-keygen";

        // Listing a store verifies every seal; a seal already verified against the same allowed-signers text is not
        // verified again (key: SHA-256 of both).
        private static readonly ConcurrentDictionary<string, (string? Principal, string? Problem)> Verified = new ConcurrentDictionary<string, (string?, string?)>(StringComparer.Ordinal);

        private readonly BackupSettings _settings;

        public BackupSigner(BackupSettings settings) => _settings = settings;

        public bool CanVerify => _settings.AllowedSignersFile != null;

        /// <summary>
        /// Proves, before anything is touched, that a backup taken now can be signed and that its signature will
        /// verify: the key is usable and its public half is in the allowed signers (else every backup would be
        /// refused later, when it is needed).
        /// </summary>
        public async Task PreflightAsync(CancellationToken cancellationToken)
        {
            var probe = Encoding.UTF8.GetBytes(BackupSeal.FirstLine + "\nprobe: " + Guid.NewGuid().ToString("N") + "\n");
            var signature = await SignAsync(probe, cancellationToken).ConfigureAwait(false);
            var (_, problem) = await VerifyAsync(probe, signature, cancellationToken).ConfigureAwait(false);
            if (problem != null)
                throw new BackupException("BackupSigningFailed", DeevErrorKind.SecurityError,
                    $"A backup signed with {_settings.SigningKeyFile} would not verify against {_settings.AllowedSignersFile}: {problem}.", _settings.SigningKeyFile)
                { RecommendedAction = $"Add the public key to the allowed signers file, one line: deevnet-backup namespaces=\"{BackupSeal.Namespace}\" <contents of the .pub file>." };
        }

        /// <summary>The armored signature of <paramref name="message"/> by <c>backup.signingKeyFile</c>.</summary>
        public async Task<string> SignAsync(byte[] message, CancellationToken cancellationToken)
        {
            var key = _settings.SigningKeyFile;
            if (key == null)
                throw new BackupException("BackupSigningKeyMissing", DeevErrorKind.InvalidOperation,
                    "The tier's backup section names no signingKeyFile: backups are signed so that nobody else can plant one in the store.", "backup.signingKeyFile")
                { RecommendedAction = "ssh-keygen -t ed25519 -N '' -C deevnet-backup -f <file>, then set backup.signingKeyFile to it and list its .pub in backup.allowedSignersFile." };
            if (!File.Exists(key))
                throw new BackupException("BackupSigningKeyMissing", DeevErrorKind.ObjectNotFound, $"The backup signing key {key} does not exist.", key);
            var dir = Directory.CreateTempSubdirectory("deev-seal-");
            try
            {
                // ssh-keygen signs a named file (stdin would be read for a passphrase); the message is not secret.
                var file = Path.Combine(dir.FullName, "seal");
                await File.WriteAllBytesAsync(file, message, cancellationToken).ConfigureAwait(false);
                var (exit, _, error) = await RunAsync(null, cancellationToken, "-Y", "sign", "-f", key, "-n", BackupSeal.Namespace, file).ConfigureAwait(false);
                if (exit != 0 || !File.Exists(file + ".sig"))
                    throw new BackupException("BackupSigningFailed", DeevErrorKind.InvalidOperation, $"Signing the backup with {key} failed (ssh-keygen exit {exit}): {LastLine(error)}.", key)
                    { RecommendedAction = "The key must be an unencrypted OpenSSH private key readable only by you, or the .pub of a key held in ssh-agent." };
                return await File.ReadAllTextAsync(file + ".sig", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }

        /// <summary>Who signed <paramref name="message"/> (a principal of the allowed signers), or why it does not verify.</summary>
        public async Task<(string? Principal, string? Problem)> VerifyAsync(byte[] message, string signature, CancellationToken cancellationToken)
        {
            var allowed = _settings.AllowedSignersFile;
            if (allowed == null) return (null, "the tier names no backup.allowedSignersFile");
            byte[] allowedBytes;
            try
            {
                allowedBytes = await File.ReadAllBytesAsync(allowed, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new BackupException("BackupSignersMissing", DeevErrorKind.ObjectNotFound, $"The allowed signers file {allowed} cannot be read: {ex.Message}", allowed, ex);
            }
            var cacheKey = BackupSeal.Sha256Hex(allowedBytes) + BackupSeal.Sha256Hex(message) + BackupSeal.Sha256Hex(Encoding.ASCII.GetBytes(signature));
            if (Verified.TryGetValue(cacheKey, out var known)) return known;
            var dir = Directory.CreateTempSubdirectory("deev-seal-");
            (string?, string?) result;
            try
            {
                var sig = Path.Combine(dir.FullName, "seal.sig");
                await File.WriteAllTextAsync(sig, signature, cancellationToken).ConfigureAwait(false);
                var (exit, output, error) = await RunAsync(null, cancellationToken, "-Y", "find-principals", "-s", sig, "-f", allowed).ConfigureAwait(false);
                var principal = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
                if (exit != 0 || principal == null)
                {
                    result = (null, "it is not signed by a key of the allowed signers" + Detail(error));
                }
                else
                {
                    (exit, _, error) = await RunAsync(message, cancellationToken, "-Y", "verify", "-f", allowed, "-I", principal, "-n", BackupSeal.Namespace, "-s", sig).ConfigureAwait(false);
                    result = exit == 0 ? (principal, null) : (null, "its signature does not verify" + Detail(error));
                }
            }
            finally
            {
                dir.Delete(recursive: true);
            }
            if (Verified.Count > 10000) Verified.Clear();
            Verified[cacheKey] = result;
            return result;
        }

        private static string Detail(string error) => LastLine(error).Length > 0 ? $" ({LastLine(error)})" : "";

        private static string LastLine(string text) => text.Trim().Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "";

        private static async Task<(int Exit, string Output, string Error)> RunAsync(byte[]? input, CancellationToken cancellationToken, params string[] arguments)
        {
            var psi = new ProcessStartInfo(Executable, arguments)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // Never prompt (a terminal prompt would hang a scheduled run or garble the PowerShell host).
            psi.Environment["SSH_ASKPASS_REQUIRE"] = "force";
            psi.Environment["SSH_ASKPASS"] = "/bin/false";
            using var process = new Process { StartInfo = psi };
            try
            {
                process.Start();
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception || ex is InvalidOperationException)
            {
                throw new BackupException("BackupToolMissing", DeevErrorKind.ResourceUnavailable, $"ssh-keygen was not found on this machine ({Executable}); install Debian's 'openssh-client' package. ({ex.Message})", "ssh-keygen", ex);
            }
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                if (input != null) await process.StandardInput.BaseStream.WriteAsync(input, cancellationToken).ConfigureAwait(false);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // ssh-keygen exited early; its status and stderr say why.
            }
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
        }
    }
}
