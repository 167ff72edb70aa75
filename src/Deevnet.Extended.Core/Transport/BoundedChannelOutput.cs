using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Threading;
using Renci.SshNet;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// Flow control for a command's standard output over SSH.NET, which has none of its own: every channel is opened
    /// with a receive window of 2 GiB (<c>Session.InitialLocalWindowSize = int.MaxValue</c>), the window is topped up
    /// as each packet arrives, before anyone reads it (<c>Channel.OnData</c> calls the private
    /// <c>AdjustDataWindow</c> and only then raises <c>DataReceived</c>), and <c>SshCommand</c> appends the data to an
    /// unbounded <c>PipeStream</c>. Nothing public delays the window, so a producer faster than its consumer fills this
    /// process with the whole output.
    /// <para>
    /// What does bound it is the thread that reads the socket: SSH.NET hands each packet to <c>DataReceived</c> on
    /// its one receive loop and reads nothing more until the handler returns. This stream replaces
    /// <c>SshCommand.OutputStream</c> and blocks that handler while <see cref="Capacity"/> packets wait for the
    /// consumer, so the socket is not read, TCP's own window closes and the server's writes block: at most
    /// <see cref="Capacity"/> packets (≤ 64 KiB each) are held here, whatever the size of the output.
    /// </para>
    /// Blocking the receive loop stalls every channel of the connection, window adjustments for its uploads
    /// included, so a bounded command must have a connection of its own (<see cref="SshTransport.StreamAsync"/>).
    /// </summary>
    internal sealed class BoundedChannelOutput : WriteOnlyStream
    {
        public const int Capacity = 32;

        // SSH.NET gives OutputStream a private setter and no other way to receive the data as it arrives.
        private static readonly MethodInfo? OutputSetter = typeof(SshCommand).GetProperty(nameof(SshCommand.OutputStream))?.GetSetMethod(nonPublic: true);

        private readonly BlockingCollection<Chunk> _chunks = new BlockingCollection<Chunk>(Capacity);
        private readonly CancellationTokenSource _abort = new CancellationTokenSource();
        private int _completed;

        /// <summary>Makes <paramref name="command"/> (not yet started) deliver its standard output here.</summary>
        public static BoundedChannelOutput AttachTo(SshCommand command)
        {
            if (OutputSetter == null)
                throw new InvalidOperationException($"This SSH.NET ({typeof(SshCommand).Assembly.GetName().Version}) no longer lets SshCommand.OutputStream be replaced; the SSH transport cannot bound a command's output.");
            var output = new BoundedChannelOutput();
            var original = command.OutputStream;
            OutputSetter.Invoke(command, new object[] { output });
            original.Dispose();
            return output;
        }

        /// <summary>Called on SSH.NET's receive loop: waits while the consumer is <see cref="Capacity"/> packets behind.</summary>
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (count == 0 || _abort.IsCancellationRequested) return;
            var data = ArrayPool<byte>.Shared.Rent(count);
            Buffer.BlockCopy(buffer, offset, data, 0, count);
            try
            {
                _chunks.Add(new Chunk(data, count), _abort.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException || ex is InvalidOperationException || ex is ObjectDisposedException)
            {
                // The consumer has gone (failed or stopped): drop the data so the receive loop, and the close of the
                // channel, go on.
                ArrayPool<byte>.Shared.Return(data);
            }
        }

        /// <summary>Copies everything that arrives into <paramref name="sink"/> until the command's output ends; run it on a thread of its own.</summary>
        public void DeliverTo(Stream sink)
        {
            try
            {
                foreach (var chunk in _chunks.GetConsumingEnumerable(_abort.Token))
                {
                    try
                    {
                        sink.Write(chunk.Data, 0, chunk.Count);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(chunk.Data);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Abandoned: the command is being stopped.
            }
            catch
            {
                Abandon();
                throw;
            }
        }

        /// <summary>Stops waiting for the consumer: whatever still arrives is dropped.</summary>
        public void Abandon()
        {
            try { _abort.Cancel(); } catch (ObjectDisposedException) { }
        }

        /// <summary>SSH.NET disposes its output stream when the channel closes: that is the end of the output.</summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _completed, 1) == 0)
            {
                try { _chunks.CompleteAdding(); } catch (ObjectDisposedException) { }
            }
            base.Dispose(disposing);
        }

        private readonly struct Chunk
        {
            public Chunk(byte[] data, int count)
            {
                Data = data;
                Count = count;
            }

            public byte[] Data { get; }
            public int Count { get; }
        }
    }
}
