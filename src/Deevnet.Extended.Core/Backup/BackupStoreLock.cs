using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// One backup of a service at a time: an exclusive <c>flock</c> on <c>&lt;store&gt;/.&lt;service&gt;.lock</c> (beside the
    /// service's folder, so the folder holds only backups),
    /// held by a command that runs on the store machine for as long as the backup does (it reads its input until this
    /// side closes it). The lock lives exactly as long as its holder: when this process or its connection dies, the
    /// holder's input ends, the holder exits and the kernel releases the lock, so a lock is never stale. While it is
    /// held, every <c>.partial</c> file of the service belongs to a backup that is dead, and may be removed.
    /// </summary>
    internal sealed class BackupStoreLock
    {
        private const string Held = "deevnet-lock-held";
        private const int Busy = 75;   // EX_TEMPFAIL

        private readonly BlockingPipe _input;
        private readonly Task<CommandResult> _holder;

        private BackupStoreLock(BlockingPipe input, Task<CommandResult> holder)
        {
            _input = input;
            _holder = holder;
        }

        /// <summary>Takes the lock, or fails at once with <c>BackupInProgress</c> when another backup of the service holds it.</summary>
        public static async Task<BackupStoreLock> AcquireAsync(BackupStore store, IHostTransport transport, string service, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var lockFile = LockFile(store, service);
            var script = $"umask 077 && mkdir -p -- {ShellQuote.Quote(store.Root)} && exec 9>>{ShellQuote.Quote(lockFile)} || exit 1; " +
                         $"flock -n 9 || exit {Busy}; echo {Held}; exec cat >/dev/null";
            var input = new BlockingPipe();
            input.Writer.Write(new[] { (byte)'\n' }, 0, 1);   // a first byte: the transports start a command with input only once it has some
            var heldSeen = new LineSignal(Held);
            var holder = transport.RunAsync(script, heldSeen, cancellationToken, input.Reader, timeout);
            var first = await Task.WhenAny(heldSeen.Seen, holder).ConfigureAwait(false);
            if (first == heldSeen.Seen) return new BackupStoreLock(input, holder);

            input.Dispose();
            var result = await holder.ConfigureAwait(false);
            if (result.ExitStatus == Busy)
                throw new BackupException("BackupInProgress", DeevErrorKind.ResourceUnavailable,
                    $"Another backup of '{service}' is running: {lockFile} in {store.Location} is locked. Nothing was changed.", service)
                { RecommendedAction = "Wait for it to finish; a backup that died releases the lock by itself." };
            throw new BackupException("BackupStoreFailed", DeevErrorKind.WriteError,
                $"The backup store {store.Location} could not lock the folder of '{service}' (exit {result.ExitStatus}): {result.StandardError.Trim()}", store.Location);
        }

        /// <summary>The lock file of a service: in the store's root, named after the service.</summary>
        public static string LockFile(BackupStore store, string service) => store.Root.TrimEnd('/') + "/." + service + ".lock";

        /// <summary>Releases the lock: the holder's input ends and it exits.</summary>
        public async Task ReleaseAsync()
        {
            _input.Complete();
            try
            {
                await _holder.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DeevException || ex is OperationCanceledException)
            {
                // The holder is gone either way, and with it the lock.
            }
            _input.Dispose();
        }

        /// <summary>A write-only sink that completes <see cref="Seen"/> once a given line has been written to it.</summary>
        private sealed class LineSignal : WriteOnlyStream
        {
            private readonly string _line;
            private readonly StringBuilder _text = new StringBuilder();
            private readonly TaskCompletionSource<bool> _seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

            public LineSignal(string line) => _line = line + "\n";

            public Task Seen => _seen.Task;

            public override void Write(byte[] buffer, int offset, int count)
            {
                if (_seen.Task.IsCompleted || _text.Length > 4096) return;
                _text.Append(Encoding.ASCII.GetString(buffer, offset, count));
                if (_text.ToString().Contains(_line)) _seen.TrySetResult(true);
            }
        }
    }
}
