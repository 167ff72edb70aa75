using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Runs commands on this machine with <c>/bin/sh -c</c>, as on a Deevnet builder in bootstrap mode,
    /// where the module runs on the DHCP/DNS server itself.
    /// </summary>
    public sealed class LocalTransport : IHostTransport
    {
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

        public Via Via => Via.Local;

        public async Task<CommandResult> RunAsync(string commandLine, CancellationToken cancellationToken, string? standardInput = null, TimeSpan? timeout = null)
        {
            using var output = new MemoryStream();
            using var input = standardInput == null ? null : new MemoryStream(new UTF8Encoding(false).GetBytes(standardInput));
            var result = await RunAsync(commandLine, output, cancellationToken, input, timeout).ConfigureAwait(false);
            var text = new UTF8Encoding(false).GetString(output.ToArray());
            return new CommandResult(result.ExitStatus, text, result.StandardError, result.Duration);
        }

        public async Task<CommandResult> RunAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null)
        {
            var limit = timeout ?? DefaultTimeout;
            // ArgumentList hands the command line to the shell byte for byte, with no quoting of our own.
            var psi = new ProcessStartInfo("/bin/sh", new[] { "-c", commandLine })
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            var watch = Stopwatch.StartNew();
            using var process = new Process { StartInfo = psi };
            try
            {
                process.Start();
            }
            catch (Exception ex)
            {
                throw new TransportException("ConnectionFailed", DeevErrorKind.ResourceUnavailable, $"Could not start /bin/sh: {ex.Message}", "local", ex);
            }

            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(limit);
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.BaseStream.CopyToAsync(standardOutput, 81920, timeoutSource.Token);
            using var inputWanted = CancellationTokenSource.CreateLinkedTokenSource(timeoutSource.Token);
            var stdin = Task.Run(async () =>
            {
                try
                {
                    if (standardInput != null) await standardInput.CopyToAsync(process.StandardInput.BaseStream, 81920, inputWanted.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && !timeoutSource.IsCancellationRequested))
                {
                    // The command exited without reading all of its input; its exit status tells the story.
                }
                finally
                {
                    try { process.StandardInput.Close(); } catch (IOException) { }
                }
            });

            try
            {
                await Task.WhenAll(stdout, process.WaitForExitAsync(timeoutSource.Token)).ConfigureAwait(false);
                // The command has ended, so its input is no longer wanted: an input that never ends by itself
                // (a lock holder's, a credit feed) must not keep this call waiting.
                inputWanted.Cancel();
                await stdin.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillQuietly(process);
                cancellationToken.ThrowIfCancellationRequested();
                throw new TransportException("CommandTimeout", DeevErrorKind.OperationTimeout,
                    $"The local command did not finish within {limit.TotalSeconds:0.#} s and was stopped.", "local");
            }
            return new CommandResult(process.ExitCode, string.Empty, await stderr.ConfigureAwait(false), watch.Elapsed);
        }

        public void Dispose()
        {
        }

        /// <summary>
        /// Stops a command and everything it started in its session: a shell's children (a pipeline, a sleep) must not
        /// outlive a stopped command. A child that made a session of its own (<c>setsid</c>: the file transaction's
        /// swap, which must finish once begun) left on purpose and is spared, as over SSH, where the process group goes.
        /// </summary>
        private static void KillQuietly(Process process)
        {
            try
            {
                if (process.HasExited) return;
                var sessionTree = ProcessTable.SameSessionDescendants(process.Id);
                if (sessionTree == null)
                {
                    process.Kill(entireProcessTree: true);   // no /proc: the whole tree
                    return;
                }
                foreach (var pid in sessionTree)
                {
                    try
                    {
                        using var victim = Process.GetProcessById(pid);
                        victim.Kill();
                    }
                    catch (Exception ex) when (ex is ArgumentException || ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception)
                    {
                        // already gone
                    }
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
