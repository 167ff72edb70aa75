using System;
using System.Diagnostics;
using System.IO;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// The <c>age</c> command of this machine (Debian's age 1.1), run as a filter: bytes in on stdin, bytes out on
    /// stdout, never a file. Arguments go through <see cref="ProcessStartInfo.ArgumentList"/>, so no quoting rules apply.
    /// </summary>
    internal sealed class AgeProcess : IDisposable
    {
        /// <summary>The age executable: <c>$DEEV_AGE</c> or <c>age</c> on PATH.</summary>
        public static string Executable => Environment.GetEnvironmentVariable("DEEV_AGE") is { Length: > 0 } e ? e : "age";

        private readonly Process _process;
        private readonly Task<string> _stderr;

        private AgeProcess(Process process)
        {
            _process = process;
            _stderr = process.StandardError.ReadToEndAsync();
        }

        /// <summary>Write plaintext (or ciphertext, when decrypting) here; dispose or <see cref="CloseInput"/> at the end.</summary>
        public Stream Input => _process.StandardInput.BaseStream;

        /// <summary>Read ciphertext (or plaintext) here.</summary>
        public Stream Output => _process.StandardOutput.BaseStream;

        /// <summary>Encrypts to one recipient (public key only: the private key is never involved).</summary>
        public static AgeProcess Encrypt(string recipient) => Start("--encrypt", "--recipient", recipient);

        /// <summary>Decrypts with an identity file (the only place besides <see cref="Encrypt"/> that age runs).</summary>
        public static AgeProcess Decrypt(string identityFile) => Start("--decrypt", "--identity", identityFile);

        /// <summary><c>age --version</c>, e.g. <c>1.1.1</c>.</summary>
        public static async Task<string> VersionAsync(CancellationToken cancellationToken)
        {
            using var age = Start("--version");
            age.CloseInput();
            var output = await new StreamReader(age.Output).ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await age.WaitAsync(cancellationToken).ConfigureAwait(false);
            return output.Trim();
        }

        public void CloseInput()
        {
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // age already exited; its exit status and stderr say why.
            }
        }

        /// <summary>Waits for age to exit; returns its exit status and error output.</summary>
        public async Task<(int ExitCode, string Error)> WaitAsync(CancellationToken cancellationToken)
        {
            try
            {
                await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill();
                throw;
            }
            _process.WaitForExit(); // drains the redirected streams' end-of-file bookkeeping
            return (_process.ExitCode, (await _stderr.ConfigureAwait(false)).Trim());
        }

        public void Kill()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }

        private static AgeProcess Start(params string[] arguments)
        {
            var psi = new ProcessStartInfo(Executable, arguments)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var process = new Process { StartInfo = psi };
            try
            {
                process.Start();
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception || ex is InvalidOperationException)
            {
                process.Dispose();
                throw new BackupException("BackupToolMissing", DeevErrorKind.ResourceUnavailable, $"age was not found on this machine ({Executable}); install Debian's 'age' package. ({ex.Message})", "age", ex);
            }
            WidenPipe(process.StandardInput.BaseStream);
            WidenPipe(process.StandardOutput.BaseStream);
            return new AgeProcess(process);
        }

        private const int PipeBytes = 1 << 20;
        private const int SetPipeSize = 1031; // F_SETPIPE_SZ

        /// <summary>
        /// Linux pipes hold 64 KiB: every 64 KiB of a gigabyte then costs a wake-up of age and of this process, on
        /// cores the host's sshd and tar share. 1 MiB (the default pipe-max-size) cuts those hand-overs 16-fold.
        /// Best effort: a smaller pipe is only slower.
        /// </summary>
        private static void WidenPipe(Stream stream)
        {
            if (!OperatingSystem.IsLinux() || stream is not PipeStream pipe) return;
            var fd = pipe.SafePipeHandle.DangerousGetHandle().ToInt32();
            _ = Fcntl(fd, SetPipeSize, PipeBytes);
        }

        [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        private static extern int Fcntl(int fd, int command, int argument);
    }
}
