using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// Flow control for streams the module reads from a host. SSH.NET acknowledges channel data as soon as it arrives
    /// and buffers it without limit, so a producer faster than the module (tar on an idle host) would fill this
    /// process's memory with the whole archive. Instead the host sends in chunks of <see cref="ChunkBytes"/> and only
    /// against credits: one newline on the command's stdin per chunk, <see cref="Window"/> chunks ahead of what the
    /// module has consumed, so at most <c>Window × ChunkBytes</c> bytes are ever in flight, whatever the size.
    /// <para>
    /// The host ends the stream with a random end token (<see cref="BackupScripts.Paced"/>). The token is how this
    /// side learns that the host needs no more credits: the transports copy stdin until it ends, so the credit
    /// stream must end once the host is done, and nothing else tells the module that while the command still runs.
    /// </para>
    /// Use it as the command's stdout (<see cref="Output"/>, a write-only pass-through to the real sink that strips
    /// the token) and stdin (<see cref="Input"/>).
    /// </summary>
    internal sealed class CreditFeed : IDisposable
    {
        public const int ChunkBytes = 4 << 20;
        public const int Window = 4;

        private readonly BlockingPipe _pipe = new BlockingPipe(Window + 2);
        private readonly byte[] _credit = { (byte)'\n' };
        private long _granted;
        private int _done;

        public CreditFeed(Stream sink)
        {
            Token = "deev-end-" + TarPipe.Hex(RandomNumberGenerator.GetBytes(32));
            Output = new Receiver(this, sink, Encoding.ASCII.GetBytes(Token));
            for (var i = 0; i < Window; i++) Grant();
        }

        /// <summary>The end token the host prints after the last chunk.</summary>
        public string Token { get; }

        /// <summary>The command's standard input (credits).</summary>
        public Stream Input => _pipe.Reader;

        /// <summary>The command's standard output: forwards data to the sink, grants credits, stops at the token.</summary>
        public Stream Output { get; }

        /// <summary>Bytes forwarded to the sink.</summary>
        public long Bytes { get; private set; }

        /// <summary>The host printed its end token: everything it sent has arrived.</summary>
        public bool EndSeen { get; private set; }

        /// <summary>No more credits: the host's loop ends after the chunk it is sending.</summary>
        public void Complete()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pipe.Complete();
        }

        public void Dispose()
        {
            Complete();
            _pipe.Dispose();
        }

        private void Consumed()
        {
            var wanted = Window + Bytes / ChunkBytes;
            while (Volatile.Read(ref _done) == 0 && Interlocked.Read(ref _granted) < wanted) Grant();
        }

        private void Grant()
        {
            try
            {
                _pipe.Writer.Write(_credit, 0, 1);
                Interlocked.Increment(ref _granted);
            }
            catch (Exception ex) when (ex is IOException || ex is InvalidOperationException || ex is ObjectDisposedException)
            {
                Interlocked.Exchange(ref _done, 1); // the command ended: it needs no more credits
            }
        }

        /// <summary>Holds back the last token-length bytes of each write, so a token split across writes is still found.</summary>
        /// <summary>
        /// SSH.NET allocates fresh buffers for every packet it decrypts, many of them on the large object heap, which
        /// .NET collects only with a full collection; on a machine with free memory that comes late, and a process
        /// streaming gigabytes then holds gigabytes of garbage. A full collection every <see cref="CollectEvery"/>
        /// bytes (a few milliseconds on a small heap) keeps its peak flat; measured in bench/Backup.Bench.ps1.
        /// </summary>
        public const long CollectEvery = 64L << 20;

        private static void Collect() => GC.Collect(2, GCCollectionMode.Forced, blocking: true);

        private sealed class Receiver : Transport.WriteOnlyStream
        {
            private readonly CreditFeed _feed;
            private readonly Stream _sink;
            private readonly byte[] _token;
            private byte[] _held = new byte[0];

            public Receiver(CreditFeed feed, Stream sink, byte[] token)
            {
                _feed = feed;
                _sink = sink;
                _token = token;
            }

            public override void Write(byte[] buffer, int offset, int count)
            {
                if (_feed.EndSeen || count == 0) return;
                byte[] data;
                int start, length;
                if (_held.Length == 0)
                {
                    data = buffer;
                    start = offset;
                    length = count;
                }
                else
                {
                    data = new byte[_held.Length + count];
                    Buffer.BlockCopy(_held, 0, data, 0, _held.Length);
                    Buffer.BlockCopy(buffer, offset, data, _held.Length, count);
                    start = 0;
                    length = data.Length;
                }
                try
                {
                    var at = IndexOf(data, start, length, _token);
                    if (at >= 0)
                    {
                        Forward(data, start, at - start);
                        _held = new byte[0];
                        _feed.EndSeen = true;
                        _feed.Complete();
                        return;
                    }
                    var keep = Math.Min(length, _token.Length - 1);
                    Forward(data, start, length - keep);
                    var held = new byte[keep];
                    Buffer.BlockCopy(data, start + length - keep, held, 0, keep);
                    _held = held;
                }
                catch
                {
                    _feed.Complete(); // the sink failed: stop the host instead of leaving it waiting for credits
                    throw;
                }
            }

            private void Forward(byte[] data, int offset, int count)
            {
                if (count <= 0) return;
                _sink.Write(data, offset, count);
                var before = _feed.Bytes;
                _feed.Bytes += count;
                _feed.Consumed();
                if (before / CollectEvery != _feed.Bytes / CollectEvery) Collect();
            }

            private static int IndexOf(byte[] data, int offset, int count, byte[] token)
            {
                var end = offset + count - token.Length;
                var first = token[0];
                for (var i = Array.IndexOf(data, first, offset, count); i >= 0 && i <= end; i = i + 1 < offset + count ? Array.IndexOf(data, first, i + 1, offset + count - i - 1) : -1)
                {
                    var match = true;
                    for (var j = 1; j < token.Length; j++)
                    {
                        if (data[i + j] != token[j])
                        {
                            match = false;
                            break;
                        }
                    }
                    if (match) return i;
                }
                return -1;
            }

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Write(buffer, offset, count);
                return Task.CompletedTask;
            }

            public override void Flush() => _sink.Flush();
            public override long Position { get => _feed.Bytes; set => throw new NotSupportedException(); }
        }
    }
}
