using System;
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
    /// <c>SshCommand.OutputStream</c> and blocks that handler while <see cref="Capacity"/> bytes wait for the
    /// consumer, so the socket is not read, TCP's own window closes and the server's writes block: at most
    /// <see cref="Capacity"/> bytes are held here, whatever the size of the output.
    /// </para>
    /// Blocking the receive loop stalls every channel of the connection, window adjustments for its uploads
    /// included, so a bounded command must have a connection of its own (<see cref="SshTransport.StreamAsync"/>).
    /// </summary>
    internal sealed class BoundedChannelOutput : WriteOnlyStream
    {
        /// <summary>Bytes held here at most.</summary>
        public const int Capacity = 1 << 20;

        /// <summary>
        /// The consumer is woken when this much has arrived (or the output ended), not for every packet: at a
        /// packet's worth per wake-up the hand-over alone costs more CPU than the data. Bulk output only.
        /// </summary>
        public const int Batch = 128 << 10;

        // SSH.NET gives OutputStream a private setter and no other way to receive the data as it arrives.
        private static readonly MethodInfo? OutputSetter = typeof(SshCommand).GetProperty(nameof(SshCommand.OutputStream))?.GetSetMethod(nonPublic: true);

        private readonly object _gate = new object();
        private readonly byte[] _ring = new byte[Capacity];
        private int _start;
        private int _count;
        private bool _ended;
        private bool _abandoned;
        private bool _readerWaits;
        private bool _writerWaits;

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

        /// <summary>Called on SSH.NET's receive loop: waits while <see cref="Capacity"/> bytes wait for the consumer.</summary>
        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_gate)
            {
                while (count > 0)
                {
                    while (_count == Capacity && !_abandoned)
                    {
                        _writerWaits = true;
                        Monitor.Wait(_gate);
                        _writerWaits = false;
                    }
                    // The consumer has gone (failed or stopped): drop the data so the receive loop, and the close of
                    // the channel, go on.
                    if (_abandoned) return;
                    var end = (_start + _count) % Capacity;
                    var n = Math.Min(count, Math.Min(Capacity - _count, Capacity - end));
                    Buffer.BlockCopy(buffer, offset, _ring, end, n);
                    _count += n;
                    offset += n;
                    count -= n;
                    if (_readerWaits && _count >= Batch) Monitor.PulseAll(_gate);
                }
            }
        }

        /// <summary>Copies everything that arrives into <paramref name="sink"/> until the command's output ends; run it on a thread of its own.</summary>
        public void DeliverTo(Stream sink)
        {
            var chunk = new byte[Batch];
            try
            {
                while (true)
                {
                    int n;
                    lock (_gate)
                    {
                        while (_count < Batch && !_ended && !_abandoned)
                        {
                            _readerWaits = true;
                            Monitor.Wait(_gate);
                            _readerWaits = false;
                        }
                        if (_abandoned || (_count == 0 && _ended)) return;
                        n = Math.Min(Math.Min(_count, chunk.Length), Capacity - _start);
                        Buffer.BlockCopy(_ring, _start, chunk, 0, n);
                        _start = (_start + n) % Capacity;
                        _count -= n;
                        if (_writerWaits) Monitor.PulseAll(_gate);
                    }
                    sink.Write(chunk, 0, n);
                }
            }
            catch
            {
                Abandon();
                throw;
            }
        }

        /// <summary>Stops waiting for the consumer: whatever still arrives is dropped.</summary>
        public void Abandon() => Signal(ref _abandoned);

        /// <summary>SSH.NET disposes its output stream when the channel closes: that is the end of the output.</summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing) Signal(ref _ended);
            base.Dispose(disposing);
        }

        private void Signal(ref bool flag)
        {
            lock (_gate)
            {
                flag = true;
                Monitor.PulseAll(_gate);
            }
        }
    }
}
