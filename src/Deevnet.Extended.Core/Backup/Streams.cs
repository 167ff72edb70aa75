using System;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// A write-only pass-through that counts bytes, hashes them (SHA-256) unless told not to, and reports the count at
    /// most every <c>interval</c>. Writes are synchronous so a slow reader downstream slows the writer (back-pressure).
    /// A plaintext meter passes <c>hash: false</c>: a SHA-256 pass nobody reads costs as much CPU as age's encryption.
    /// </summary>
    internal sealed class MeterStream : Transport.WriteOnlyStream
    {
        private readonly Stream? _inner;
        private readonly Action<long>? _report;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly IncrementalHash? _hash;
        private readonly long _intervalMs;
        private long _lastReport = long.MinValue / 2; // the first write reports at once

        public MeterStream(Stream? inner, Action<long>? report = null, int intervalMs = 500, bool hash = true)
        {
            _inner = inner;
            _hash = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            _report = report;
            _intervalMs = intervalMs;
        }

        public long Bytes { get; private set; }

        /// <summary>SHA-256 of everything written, lowercase hex (call once, at the end).</summary>
        public string Sha256() => TarPipe.Hex((_hash ?? throw new InvalidOperationException("This meter does not hash.")).GetHashAndReset());

        public override void Write(byte[] buffer, int offset, int count)
        {
            _inner?.Write(buffer, offset, count);
            _hash?.AppendData(buffer, offset, count);
            Bytes += count;
            if (_report != null && _clock.ElapsedMilliseconds - _lastReport >= _intervalMs)
            {
                _lastReport = _clock.ElapsedMilliseconds;
                _report(Bytes);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public override void Flush() => _inner?.Flush();
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash?.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>A read-only pass-through that counts and hashes what is read (the ciphertext on its way to the store).</summary>
    internal sealed class HashingReadStream : Stream
    {
        private readonly Stream _inner;
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public HashingReadStream(Stream inner) => _inner = inner;

        public long Bytes { get; private set; }

        public string Sha256() => TarPipe.Hex(_hash.GetHashAndReset());

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = _inner.Read(buffer, offset, count);
            _hash.AppendData(buffer, offset, n);
            Bytes += n;
            return n;
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            _hash.AppendData(buffer, offset, n);
            Bytes += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// An in-process pipe with a fixed capacity: <see cref="Writer"/> blocks when <c>capacity</c> chunks wait,
    /// <see cref="Reader"/> waits until data or the end comes. Connects a push producer (TarPipe) to a transport
    /// that pulls its standard input, without memory growing with the stream. The reader's ReadAsync waits without a
    /// thread (a channel), so a transport pulling input never parks a thread-pool thread for the stream's length.
    /// </summary>
    internal sealed class BlockingPipe : IDisposable
    {
        private readonly Channel<byte[]> _chunks;
        private readonly CancellationTokenSource _abort = new CancellationTokenSource();

        public BlockingPipe(int capacity = 16)
        {
            _chunks = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
            Writer = new WriteEnd(this);
            Reader = new ReadEnd(this);
        }

        public Stream Writer { get; }
        public Stream Reader { get; }

        /// <summary>No more data: the reader sees the end after draining what is queued.</summary>
        public void Complete() => _chunks.Writer.TryComplete();

        /// <summary>Unblocks both ends for good (the other side failed).</summary>
        public void Abort() => _abort.Cancel();

        public void Dispose()
        {
            _abort.Cancel();
            _chunks.Writer.TryComplete();
            _abort.Dispose();
        }

        private sealed class WriteEnd : Transport.WriteOnlyStream
        {
            private readonly BlockingPipe _pipe;

            public WriteEnd(BlockingPipe pipe) => _pipe = pipe;

            /// <summary>Blocks while the pipe is full: the producer pushes synchronously and is paced by the reader.</summary>
            public override void Write(byte[] buffer, int offset, int count)
            {
                if (count == 0) return;
                var chunk = new byte[count];
                Buffer.BlockCopy(buffer, offset, chunk, 0, count);
                try
                {
                    while (!_pipe._chunks.Writer.TryWrite(chunk))
                    {
                        if (!_pipe._chunks.Writer.WaitToWriteAsync(_pipe._abort.Token).AsTask().GetAwaiter().GetResult())
                            throw new IOException("The reading side of the pipe has gone.");
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException || ex is ObjectDisposedException)
                {
                    throw new IOException("The reading side of the pipe has gone.", ex);
                }
            }
        }

        private sealed class ReadEnd : Stream
        {
            private readonly BlockingPipe _pipe;
            private byte[]? _current;
            private int _offset;

            public ReadEnd(BlockingPipe pipe) => _pipe = pipe;

            public override int Read(byte[] buffer, int offset, int count) =>
                ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

            // Honours the token while waiting, so a transport that stops a command is never held by its input.
            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                if (_current == null || _offset == _current.Length)
                {
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(_pipe._abort.Token, cancellationToken);
                    try
                    {
                        byte[]? chunk;
                        while (!_pipe._chunks.Reader.TryRead(out chunk))
                        {
                            if (!await _pipe._chunks.Reader.WaitToReadAsync(linked.Token).ConfigureAwait(false)) return 0;
                        }
                        _current = chunk;
                    }
                    catch (OperationCanceledException ex)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        throw new IOException("The writing side of the pipe failed.", ex);
                    }
                    _offset = 0;
                }
                var n = Math.Min(count, _current!.Length - _offset);
                Buffer.BlockCopy(_current, _offset, buffer, offset, n);
                _offset += n;
                return n;
            }

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
