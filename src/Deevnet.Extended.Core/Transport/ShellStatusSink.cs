using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// The stderr of a command run by <see cref="SshTransport"/>: takes the wrapper's PID line off its front and, for a
    /// command with input, watches for the wrapper's exit marker at its end (see <see cref="SshTransport.Wrap"/>), which
    /// says that the caller's line has ended and no more input is wanted. Both are left out of <see cref="Text"/>.
    /// </summary>
    internal sealed class ShellStatusSink : WriteOnlyStream
    {
        public const string PidPrefix = "deevnet-pid:";

        private readonly MemoryStream _header = new MemoryStream();
        private readonly MemoryStream _content = new MemoryStream();
        private readonly byte[]? _marker;
        private readonly TaskCompletionSource<bool> _ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _pidKnown = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _headerDone;
        private int _linesBeforeHeader;
        private long _markerAt = -1;

        /// <param name="exitMarker">The random marker of a guarded command, or null for a command without input.</param>
        public ShellStatusSink(string? exitMarker)
        {
            ExitMarker = exitMarker;
            if (exitMarker != null) _marker = Encoding.ASCII.GetBytes("\n" + exitMarker);
        }

        public string? ExitMarker { get; }

        public int? Pid { get; private set; }

        /// <summary>Completes when the wrapper's PID line has arrived.</summary>
        public Task PidKnown => _pidKnown.Task;

        /// <summary>Completes when the wrapper reported the end of the caller's line (never, without a marker).</summary>
        public Task CommandEnded => _ended.Task;

        /// <summary>What the command wrote to stderr, without the wrapper's lines.</summary>
        public byte[] Text()
        {
            var all = _content.ToArray();
            if (_markerAt < 0) return all;
            var text = new byte[_markerAt];
            Array.Copy(all, text, _markerAt);
            return text;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            // The PID line is the wrapper's first output, but the login shell's start-up files may print before it.
            while (!_headerDone && count > 0)
            {
                var b = buffer[offset++];
                count--;
                if (b != (byte)'\n' && _header.Length < 256)
                {
                    _header.WriteByte(b);
                    continue;
                }
                var raw = _header.ToArray();
                var line = Encoding.ASCII.GetString(raw);
                _header.SetLength(0);
                if (line.StartsWith(PidPrefix, StringComparison.Ordinal) && int.TryParse(line.Substring(PidPrefix.Length), out var pid) && pid > 1)
                {
                    Pid = pid;
                    _headerDone = true;
                    _pidKnown.TrySetResult(true);
                    continue;
                }
                // Not our line: keep it as output, and give up looking after a few.
                _content.Write(raw, 0, raw.Length);
                _content.WriteByte(b);
                if (++_linesBeforeHeader >= 32) _headerDone = true;
            }
            if (count <= 0) return;
            var before = _content.Length;
            _content.Write(buffer, offset, count);
            if (_marker != null && _markerAt < 0) FindMarker(Math.Max(0, before - _marker.Length + 1));
        }

        private void FindMarker(long from)
        {
            var data = _content.GetBuffer();
            var end = _content.Length - _marker!.Length;
            for (var i = from; i <= end; i++)
            {
                var match = true;
                for (var j = 0; j < _marker.Length && match; j++) match = data[i + j] == _marker[j];
                if (!match) continue;
                _markerAt = i;
                _ended.TrySetResult(true);
                return;
            }
        }

        /// <summary>A new random marker: the command cannot guess it, so its own output never ends its input.</summary>
        public static string NewMarker() => "deevnet-exit-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant() + ":";
    }
}
