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
    /// <summary>
    /// Runs commands over one SSH connection (SSH.NET), opened on first use and reused for every command;
    /// concurrent commands share it as separate channels. Host keys are checked strictly against known_hosts.
    /// </summary>
    public sealed class SshTransport : IHostTransport
    {
        private static readonly Encoding Utf8 = new UTF8Encoding(false);

        private readonly SshTransportOptions _options;
        private readonly IOperationLog _log;
        private readonly SemaphoreSlim _connectGate = new SemaphoreSlim(1, 1);
        private readonly SemaphoreSlim _channels;
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

        /// <summary>How many SSH connections this transport has opened (1 while it stays connected).</summary>
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
                return await ExecuteAsync(client, commandLine, standardOutput, standardInput, limit, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _channels.Release();
            }
        }

        private async Task<CommandResult> ExecuteAsync(SshClient client, string commandLine, Stream standardOutput, Stream? standardInput, TimeSpan limit, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            using var timeoutSource = new CancellationTokenSource(limit);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);

            // SSH.NET sends EOF on stdin only after at least one byte was written, so an empty input is /dev/null instead.
            var first = new byte[81920];
            var firstCount = standardInput == null ? 0 : await standardInput.ReadAsync(first, 0, first.Length, linked.Token).ConfigureAwait(false);
            var hasInput = firstCount > 0;

            var command = client.CreateCommand(Wrap(commandLine, hasInput), Utf8);
            var stderr = new PidHeaderSink();
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

            // Output is pumped while the command runs, so nothing large piles up in SSH.NET's pipes or here.
            var stdoutPump = Task.Run(() => Pump(command.OutputStream, standardOutput));
            var stderrPump = Task.Run(() => Pump(command.ExtendedOutputStream, stderr));
            var stdinPump = hasInput ? PumpInputAsync(command.CreateInputStream(), first, firstCount, standardInput!, linked.Token) : Task.CompletedTask;

            try
            {
                await WaitOrAbandonAsync(execution, linked.Token).ConfigureAwait(false);
                await Task.WhenAll(stdoutPump, stderrPump, stdinPump).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException || linked.IsCancellationRequested)
            {
                // Unless the server reported the end of the command, stop its process group ourselves.
                if (stderr.Pid is int pid && command.ExitStatus == null && command.ExitSignal == null) await KillProcessGroupAsync(client, pid).ConfigureAwait(false);
                command.Dispose();   // closes the channel; the pumps end
                Observe(execution, stdoutPump, stderrPump, stdinPump);
                cancellationToken.ThrowIfCancellationRequested();
                throw new TransportException("CommandTimeout", DeevErrorKind.OperationTimeout,
                    $"'{ProgramOf(commandLine)}' on {Endpoint} did not finish within {limit.TotalSeconds:0.#} s and was stopped.", Endpoint, ex);
            }
            catch (Exception ex) when (ex is SshException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException)
            {
                command.Dispose();
                Observe(execution, stdoutPump, stderrPump, stdinPump);
                throw new TransportException("ConnectionFailed", DeevErrorKind.ConnectionError,
                    $"The connection to {Endpoint} failed while '{ProgramOf(commandLine)}' ran: {ex.Message}", Endpoint, ex);
            }

            var exit = command.ExitStatus ?? ExitStatusOfSignal(command.ExitSignal);
            command.Dispose();
            return new CommandResult(exit, string.Empty, Utf8.GetString(stderr.Content.ToArray()), watch.Elapsed);
        }

        /// <summary>
        /// The line sent to the server. sshd runs it with the user's login shell; it reports its PID (the session's
        /// process group, as sshd starts each session with setsid) on stderr and then becomes <c>/bin/sh -c</c> with the
        /// caller's line, so the line always means what <see cref="ShellQuote"/> quoted it for.
        /// </summary>
        internal static string Wrap(string commandLine, bool hasInput) =>
            $"printf '{PidHeaderSink.Prefix}%s\\n' \"$$\" >&2; exec /bin/sh -c {ShellQuote.Quote(commandLine)}{(hasInput ? "" : " </dev/null")}";

        private static async Task PumpInputAsync(Stream input, byte[] first, int firstCount, Stream rest, CancellationToken token)
        {
            try
            {
                await input.WriteAsync(first, 0, firstCount, token).ConfigureAwait(false);
                await rest.CopyToAsync(input, 81920, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is SshException || ex is OperationCanceledException || ex is InvalidOperationException)
            {
                // The command ended (or was stopped) without reading all its input; its exit status tells the story.
            }
            finally
            {
                // Closing sends EOF, so a command reading stdin sees the end of its input.
                try { input.Dispose(); } catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is SshException || ex is InvalidOperationException) { }
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
                using var kill = client.CreateCommand($"kill -TERM -{pid} 2>/dev/null; sleep 1; kill -KILL -{pid} 2>/dev/null; true", Utf8);
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
                var knownHosts = KnownHostsFile.Load(_options.KnownHostsPath);
                var info = new ConnectionInfo(Via.Host, Via.Port, Via.User!, SshConnector.AuthenticationMethods(Via.User!, _options, Endpoint))
                {
                    Timeout = _options.ConnectTimeout,
                };
                SshConnector.PreferRecordedKeyTypes(info, knownHosts, Via.Host, Via.Port);
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
                _client = client;
                return client;
            }
            finally
            {
                _connectGate.Release();
            }
        }

        /// <summary>Collects stderr, taking the wrapper's PID line off its front.</summary>
        private sealed class PidHeaderSink : Stream
        {
            public const string Prefix = "deevnet-pid:";
            private readonly MemoryStream _header = new MemoryStream();
            private bool _headerDone;

            public MemoryStream Content { get; } = new MemoryStream();
            public int? Pid { get; private set; }

            public override void Write(byte[] buffer, int offset, int count)
            {
                while (!_headerDone && count > 0)
                {
                    var b = buffer[offset++];
                    count--;
                    if (b != (byte)'\n' && _header.Length < 64)
                    {
                        _header.WriteByte(b);
                        continue;
                    }
                    _headerDone = true;
                    var line = Encoding.ASCII.GetString(_header.ToArray());
                    if (line.StartsWith(Prefix, StringComparison.Ordinal) && int.TryParse(line.Substring(Prefix.Length), out var pid) && pid > 1)
                    {
                        Pid = pid;
                    }
                    else
                    {
                        // Not our line (a shell that printed first): keep it as output.
                        _header.WriteTo(Content);
                        Content.WriteByte(b);
                    }
                }
                if (count > 0) Content.Write(buffer, offset, count);
            }

            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => Content.Length;
            public override long Position { get => Content.Length; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
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
