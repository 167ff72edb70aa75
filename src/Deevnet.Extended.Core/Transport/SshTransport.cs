using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Errors;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>A transport that can forward a local TCP port to an address seen from its server (an SSH tunnel).</summary>
    public interface IPortForwarding
    {
        /// <summary>Returns a port on 127.0.0.1 whose connections reach <paramref name="host"/>:<paramref name="port"/> from the server.</summary>
        Task<int> ForwardAsync(string host, int port, CancellationToken cancellationToken);
    }

    /// <summary>
    /// Runs commands over one SSH connection (SSH.NET), opened on first use and reused for every command;
    /// concurrent commands share it as separate channels. Host keys are checked strictly against known_hosts.
    /// </summary>
    public sealed class SshTransport : IHostTransport, IPortForwarding
    {
        private static readonly Encoding Utf8 = new UTF8Encoding(false);

        private readonly SshTransportOptions _options;
        private readonly IOperationLog _log;
        private readonly SemaphoreSlim _connectGate = new SemaphoreSlim(1, 1);
        private readonly SemaphoreSlim _channels;
        private readonly CancellationTokenSource _closing = new CancellationTokenSource();
        private SshClient? _client;
        private int _connectionsOpened;
        private volatile bool _disposed;

        public SshTransport(Via via, SshTransportOptions options, IOperationLog? log = null)
        {
            if (via is null) throw new ArgumentNullException(nameof(via));
            if (via.IsLocal) throw new ArgumentException("SshTransport needs an ssh:// via; use LocalTransport for 'local'.", nameof(via));
            if (via.User == null) throw new ArgumentException($"{via} names no user; fill it in with Via.WithDefaultUser.", nameof(via));
            Via = via;
            _options = (options ?? throw new ArgumentNullException(nameof(options))).Clone();
            _log = log ?? NullOperationLog.Instance;
            _channels = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentCommands));
        }

        public Via Via { get; }

        /// <summary>How many SSH connections this transport has opened: 1 while it stays connected, plus one per <see cref="StreamAsync"/>.</summary>
        public int ConnectionsOpened => _connectionsOpened;

        private string Endpoint => $"{Via.Host}:{Via.Port}";

        public async Task<CommandResult> RunAsync(string commandLine, CancellationToken cancellationToken, string? standardInput = null, TimeSpan? timeout = null)
        {
            using var output = new MemoryStream();
            using var input = standardInput == null ? null : new MemoryStream(Utf8.GetBytes(standardInput));
            var result = await RunAsync(commandLine, output, cancellationToken, input, timeout).ConfigureAwait(false);
            return new CommandResult(result.ExitStatus, Utf8.GetString(output.ToArray()), result.StandardError, result.Duration);
        }

        public async Task<CommandResult> RunAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null)
        {
            if (commandLine is null) throw new ArgumentNullException(nameof(commandLine));
            if (standardOutput is null) throw new ArgumentNullException(nameof(standardOutput));
            var limit = timeout ?? _options.CommandTimeout;
            var client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
            await _channels.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await ExecuteAsync(client, commandLine, standardOutput, standardInput, limit, bounded: false, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _channels.Release();
            }
        }

        /// <summary>
        /// Runs a bulk transfer on a connection of its own, with its output flow-controlled
        /// (<see cref="BoundedChannelOutput"/>): memory stays bounded however slow <paramref name="standardOutput"/> is,
        /// and a stalled transfer never stalls the commands of the shared connection, nor they it.
        /// </summary>
        public async Task<CommandResult> StreamAsync(string commandLine, Stream standardOutput, CancellationToken cancellationToken, Stream? standardInput = null, TimeSpan? timeout = null)
        {
            if (commandLine is null) throw new ArgumentNullException(nameof(commandLine));
            if (standardOutput is null) throw new ArgumentNullException(nameof(standardOutput));
            var limit = timeout ?? _options.CommandTimeout;
            using var client = await OpenClientAsync(cancellationToken).ConfigureAwait(false);
            return await ExecuteAsync(client, commandLine, standardOutput, standardInput, limit, bounded: true, cancellationToken).ConfigureAwait(false);
        }

        private async Task<CommandResult> ExecuteAsync(SshClient client, string commandLine, Stream standardOutput, Stream? standardInput, TimeSpan limit, bool bounded, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            using var timeoutSource = new CancellationTokenSource(limit);
            using var sinkFailed = new CancellationTokenSource();
            // Closing the transport ends its commands at once, as a dropped connection would: SSH.NET does not end a
            // command whose client is disposed under it. A sink that fails stops the command too.
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token, _closing.Token, sinkFailed.Token);

            // SSH.NET sends EOF on stdin only after at least one byte was written, so an empty input is /dev/null instead.
            var first = new byte[81920];
            var firstCount = standardInput == null ? 0 : await standardInput.ReadAsync(first, 0, first.Length, linked.Token).ConfigureAwait(false);
            var hasInput = firstCount > 0;

            var stderr = new ShellStatusSink(hasInput ? ShellStatusSink.NewMarker() : null);
            var command = client.CreateCommand(Wrap(commandLine, stderr.ExitMarker), Utf8);
            var boundedOutput = bounded ? BoundedChannelOutput.AttachTo(command) : null;
            Task execution;
            try
            {
                execution = command.ExecuteAsync(linked.Token);
            }
            catch (Exception ex) when (ex is SshException || ex is InvalidOperationException || ex is ObjectDisposedException)
            {
                command.Dispose();
                throw new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError, $"Could not start a command on {Endpoint}: {ex.Message}", Endpoint, ex);
            }

            // Output is pumped while the command runs, so nothing large piles up in SSH.NET's pipes or here. The pumps
            // block (SSH.NET's output streams are read synchronously) for as long as the command runs: each has a
            // thread of its own (OwnThread), never a thread-pool thread.
            var stdoutPump = boundedOutput != null
                ? OwnThread.Run(() => boundedOutput.DeliverTo(standardOutput))
                : OwnThread.Run(() => Pump(command.OutputStream, standardOutput));
            _ = stdoutPump.ContinueWith(_ => Cancel(sinkFailed), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            var stderrPump = OwnThread.Run(() => Pump(command.ExtendedOutputStream, stderr));
            using var stopInput = new CancellationTokenSource();
            var stdinPump = hasInput
                ? PumpInputAsync(command.CreateInputStream(), first, firstCount, standardInput!, stderr.CommandEnded, execution, stopInput.Token)
                : Task.CompletedTask;

            try
            {
                await WaitOrAbandonAsync(execution, linked.Token).ConfigureAwait(false);
                await Task.WhenAll(stdoutPump, stderrPump, stdinPump).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException || linked.IsCancellationRequested)
            {
                // Nothing may be sent on the channel once the server could have closed it (see PumpInputAsync), so the
                // input stops first; then, unless the server reported the end of the command, its process group is stopped.
                // Output still arriving is dropped, so the receive loop is free for the kill and the channel's close.
                stopInput.Cancel();
                boundedOutput?.Abandon();
                var closing = _closing.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
                if (!closing)
                {
                    await Task.WhenAny(stdinPump, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
                    // A command cancelled right after it started may not have had its PID line read yet.
                    if (command.ExitStatus == null && command.ExitSignal == null) await Task.WhenAny(stderr.PidKnown, execution, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
                    if (stderr.Pid is int pid && command.ExitStatus == null && command.ExitSignal == null) await KillProcessGroupAsync(client, pid).ConfigureAwait(false);
                }
                command.Dispose();   // closes the channel; the pumps end
                Observe(execution, stdoutPump, stderrPump, stdinPump);
                cancellationToken.ThrowIfCancellationRequested();
                if (stdoutPump.IsFaulted) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(stdoutPump.Exception!.GetBaseException()).Throw();
                if (closing)
                    throw new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError,
                        $"The connection to {Endpoint} was closed while '{ProgramOf(commandLine)}' ran.", Endpoint, ex);
                throw new TransportException("CommandTimeout", DeevErrorKind.OperationTimeout,
                    $"'{ProgramOf(commandLine)}' on {Endpoint} did not finish within {limit.TotalSeconds:0.#} s and was stopped.", Endpoint, ex);
            }
            catch (Exception ex) when (ex is SshException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                stopInput.Cancel();
                boundedOutput?.Abandon();
                command.Dispose();
                Observe(execution, stdoutPump, stderrPump, stdinPump);
                throw new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError,
                    $"The connection to {Endpoint} failed while '{ProgramOf(commandLine)}' ran: {ex.Message}", Endpoint, ex);
            }

            var exit = command.ExitStatus ?? ExitStatusOfSignal(command.ExitSignal);
            command.Dispose();
            return new CommandResult(exit, string.Empty, Utf8.GetString(stderr.Text()), watch.Elapsed);
        }

        /// <summary>
        /// The line sent to the server. sshd runs it with the user's login shell; it reports its PID (the session's
        /// process group, as sshd starts each session with setsid) on stderr, then runs <c>/bin/sh -c</c> with the
        /// caller's line, so the line always means what <see cref="ShellQuote"/> quoted it for.
        /// <para>
        /// A command with input must not end before this side has sent EOF. OpenSSH frees a channel once both sides
        /// have closed it, and drops the whole connection, every other command on it included, when a client sends
        /// anything on a freed channel ("channel_by_id: bad id: channel free"). SSH.NET checks that a channel is
        /// open before it takes the lock that orders EOF after CLOSE, so an EOF sent as the server closes the channel
        /// can follow the client's own CLOSE. Commands with input therefore run under a guard: when the caller's
        /// line ends, the shell reports it on stderr with a random marker and then reads its input to the end; this
        /// side stops sending on the marker and sends EOF, and only then can the server close the channel.
        /// </para>
        /// </summary>
        internal static string Wrap(string commandLine, string? exitMarker)
        {
            var header = $"printf '{ShellStatusSink.PidPrefix}%s\\n' \"$$\" >&2; ";
            if (exitMarker == null) return header + $"exec /bin/sh -c {ShellQuote.Quote(commandLine)} </dev/null";
            return header + $"/bin/sh -c {ShellQuote.Quote(commandLine)}; s=$?; printf '\\n{exitMarker}%s\\n' \"$s\" >&2; cat >/dev/null; exit $s";
        }

        /// <summary>
        /// Copies the caller's input to the command until the input ends or the command's line has ended (the guard's
        /// marker), then sends EOF once. Cancelled, it stops without EOF: the caller then stops the command.
        /// </summary>
        private static async Task PumpInputAsync(Stream input, byte[] first, int firstCount, Stream rest, Task commandEnded, Task execution, CancellationToken stop)
        {
            var sendEof = true;
            try
            {
                await input.WriteAsync(first, 0, firstCount, stop).ConfigureAwait(false);
                var buffer = new byte[81920];
                while (!commandEnded.IsCompleted)
                {
                    // A source that never ends by itself (credits, say) is left reading once the command has ended.
                    var read = rest.ReadAsync(buffer, 0, buffer.Length, stop);
                    if (await Task.WhenAny(read, commandEnded).ConfigureAwait(false) != read)
                    {
                        Observe(read);
                        break;
                    }
                    var count = await read.ConfigureAwait(false);
                    if (count == 0) break;
                    await input.WriteAsync(buffer, 0, count, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                sendEof = false;
            }
            catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is SshException || ex is InvalidOperationException)
            {
                // The command or the connection ended without reading all the input; the exit status tells the story.
            }
            finally
            {
                // Closing sends EOF, so the command sees the end of its input. Never on a channel the server has closed.
                if (sendEof && !execution.IsCompleted)
                {
                    try { input.Dispose(); } catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is SshException || ex is InvalidOperationException) { }
                }
            }
        }

        /// <summary>
        /// Stops a cancelled command and everything it started. The SSH "signal" request alone is not enough: OpenSSH
        /// ignores it for root sessions, and closing the channel leaves the processes running.
        /// </summary>
        private async Task KillProcessGroupAsync(SshClient client, int pid)
        {
            try
            {
                using var kill = client.CreateCommand(ShellQuote.Line($"kill -TERM -{pid} 2>/dev/null; sleep 1; kill -KILL -{pid} 2>/dev/null; true"), Utf8);
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await kill.ExecuteAsync(limit.Token).ConfigureAwait(false);
                _log.Verbose($"SSH: stopped the cancelled command's process group {pid} on {Endpoint}.");
            }
            catch (Exception ex) when (ex is SshException || ex is OperationCanceledException || ex is InvalidOperationException || ex is ObjectDisposedException)
            {
                _log.Warning($"Could not stop the cancelled command on {Endpoint} (process group {pid}): {ex.Message}");
            }
        }

        /// <summary>Waits for the command, or stops waiting at once when cancelled (the caller then stops the command).</summary>
        private static async Task WaitOrAbandonAsync(Task execution, CancellationToken token)
        {
            var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (token.Register(() => cancelled.TrySetResult(true)))
            {
                if (await Task.WhenAny(execution, cancelled.Task).ConfigureAwait(false) == execution)
                {
                    await execution.ConfigureAwait(false);
                    return;
                }
            }
            throw new OperationCanceledException(token);
        }

        private static void Pump(Stream from, Stream to)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = from.Read(buffer, 0, buffer.Length)) > 0) to.Write(buffer, 0, read);
        }

        private static void Cancel(CancellationTokenSource source)
        {
            try { source.Cancel(); } catch (ObjectDisposedException) { }
        }

        private static void Observe(params Task[] tasks)
        {
            foreach (var task in tasks) task.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
        }

        private static int ExitStatusOfSignal(string? signal)
        {
            // As a shell reports it: 128 + signal number.
            switch (signal)
            {
                case "HUP": return 129;
                case "INT": return 130;
                case "QUIT": return 131;
                case "ABRT": return 134;
                case "KILL": return 137;
                case "SEGV": return 139;
                case "PIPE": return 141;
                case "ALRM": return 142;
                case "TERM": return 143;
                default: return -1;
            }
        }

        /// <summary>The program name of a command line, for messages: arguments may hold values that do not belong in logs.</summary>
        internal static string ProgramOf(string commandLine)
        {
            var trimmed = commandLine.TrimStart();
            var end = trimmed.IndexOfAny(new[] { ' ', '\t', '\n', ';', '|', '&' });
            var program = end < 0 ? trimmed : trimmed.Substring(0, end);
            return program.Length > 40 ? program.Substring(0, 40) + "…" : program;
        }

        private async Task<SshClient> ConnectedClientAsync(CancellationToken cancellationToken)
        {
            await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_disposed) throw new ObjectDisposedException(nameof(SshTransport));
                if (_client != null && _client.IsConnected) return _client;
                if (_client != null)
                {
                    _log.Verbose($"SSH connection to {Endpoint} was lost; reconnecting.");
                    _client.Dispose();
                    _client = null;
                }
                var client = await OpenClientAsync(cancellationToken).ConfigureAwait(false);
                _client = client;
                return client;
            }
            finally
            {
                _connectGate.Release();
            }
        }

        /// <summary>A new, connected client whose host key matched known_hosts.</summary>
        private async Task<SshClient> OpenClientAsync(CancellationToken cancellationToken)
        {
            if (_disposed) throw new ObjectDisposedException(nameof(SshTransport));
            var knownHosts = KnownHostsFile.Load(_options.KnownHostsPath);
            var info = new ConnectionInfo(Via.Host, Via.Port, Via.User!, SshConnector.AuthenticationMethods(Via.User!, _options, Endpoint))
            {
                Timeout = _options.ConnectTimeout,
            };
            SshConnector.PreferRecordedKeyTypes(info, knownHosts, Via.Host, Via.Port);
            SshConnector.PreferAeadCiphers(info);
            var client = new SshClient(info);
            _log.Verbose($"SSH: connecting to {Via.User}@{Endpoint} (host keys from {knownHosts.Path}).");
            try
            {
                await SshConnector.ConnectAsync(client, Via.Host, Via.Port, knownHosts, _options.ConnectTimeout, null, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                client.Dispose();
                throw;
            }
            Interlocked.Increment(ref _connectionsOpened);
            _log.Verbose($"SSH: connected to {Endpoint}; host key {client.ConnectionInfo.CurrentHostKeyAlgorithm} matched {knownHosts.Path}.");
            return client;
        }

        /// <summary>
        /// Opens a port on 127.0.0.1 (chosen by the OS) forwarded over this connection to <paramref name="host"/>:<paramref name="port"/>
        /// as the server sees them (<c>ssh -L</c>); it closes with the connection.
        /// </summary>
        public async Task<int> ForwardAsync(string host, int port, CancellationToken cancellationToken)
        {
            var client = await ConnectedClientAsync(cancellationToken).ConfigureAwait(false);
            var forward = new ForwardedPortLocal("127.0.0.1", 0, host, (uint)port);
            client.AddForwardedPort(forward);
            forward.Start();
            _log.Verbose($"SSH: 127.0.0.1:{forward.BoundPort} forwarded through {Endpoint} to {host}:{port}.");
            return (int)forward.BoundPort;
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _closing.Cancel();
            _connectGate.Wait();
            try
            {
                _client?.Dispose();
                _client = null;
            }
            finally
            {
                _connectGate.Release();
            }
        }
    }
}
