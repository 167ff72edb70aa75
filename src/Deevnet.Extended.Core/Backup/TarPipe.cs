using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// Reads a tar stream as it passes, block by block, without ever holding more than one member's headers:
    /// it lists every member (<see cref="Entries"/>) with the SHA-256 of every file's content, and forwards the
    /// bytes to a sink. Two twists serve the backup format: the member named <see cref="ManifestName"/> can be
    /// captured instead of forwarded (restore, verify), and the end-of-archive blocks can be held back so the
    /// caller appends the manifest before closing the archive (<see cref="Finish"/>, backup).
    /// Handles ustar, POSIX pax ('x'/'g') and GNU long names ('L'/'K'), octal and base-256 numbers.
    /// Memory: one block, one member's header group (pax data capped at 1 MiB) and one list entry per member.
    /// </summary>
    public sealed class TarPipe : Stream
    {
        public const string ManifestName = "MANIFEST";
        private const int Block = 512;
        private const int Record = 20 * Block;
        private const int MaxHeaderData = 1 << 20;

        private readonly Stream? _sink;
        private readonly bool _captureManifest;
        private readonly bool _holdEnd;
        private readonly long _captureLimit;
        private readonly RestoreConfinement? _confine;
        private bool _sawGlobal;
        private readonly byte[] _block = new byte[Block];
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly MemoryStream _pending = new MemoryStream();
        private readonly Dictionary<string, byte[]> _pax = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        private readonly List<TarEntry> _entries = new List<TarEntry>();
        private int _blockFill;
        private long _regionLeft;
        private long _dataLeft;
        private Region _region;
        private MemoryStream? _headerData;
        private MemoryStream? _captured;
        private byte[]? _longName;
        private byte[]? _longLink;
        private Pending? _file;
        private bool _forwardRegion;
        private bool _ended;
        private bool _finished;
        private long _forwarded;

        /// <param name="sink">Where the bytes go on (null: nowhere, only read).</param>
        /// <param name="captureManifest">Keep the <see cref="ManifestName"/> member's content in <see cref="Manifest"/> and do not forward it.</param>
        /// <param name="holdEnd">Do not forward the end-of-archive blocks; the caller ends the archive with <see cref="Finish"/>.</param>
        /// <param name="captureLimit">Largest manifest accepted, in bytes.</param>
        /// <param name="confine">Checks every member (restore) before a byte of it is forwarded; its refusal stops the stream.</param>
        public TarPipe(Stream? sink, bool captureManifest, bool holdEnd, long captureLimit = 512L << 20, RestoreConfinement? confine = null)
        {
            _confine = confine;
            _sink = sink;
            _captureManifest = captureManifest;
            _holdEnd = holdEnd;
            _captureLimit = captureLimit;
        }

        private enum Region
        {
            None,
            HeaderData,
            Member,
            Manifest,
        }

        /// <summary>Every member read so far, in archive order (the captured manifest excluded).</summary>
        public IReadOnlyList<TarEntry> Entries => _entries;

        /// <summary>Bytes of tar stream read so far.</summary>
        public long BytesRead { get; private set; }

        /// <summary>The end-of-archive marker was read: the stream is whole.</summary>
        public bool Ended => _ended;

        /// <summary>The member being read when the stream stopped, if it stopped inside one (names the bad file).</summary>
        public string? CurrentPath => _region == Region.Member || _region == Region.Manifest ? _currentPath : null;

        /// <summary>The captured manifest's bytes, once read whole.</summary>
        public byte[]? Manifest { get; private set; }

        private string? _currentPath;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() => _sink?.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override System.Threading.Tasks.Task WriteAsync(byte[] buffer, int offset, int count, System.Threading.CancellationToken cancellationToken)
        {
            // Synchronous on purpose: the sink is a pipe whose back-pressure must reach the producer.
            cancellationToken.ThrowIfCancellationRequested();
            Write(buffer, offset, count);
            return System.Threading.Tasks.Task.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            BytesRead += count;
            var end = offset + count;
            while (offset < end)
            {
                if (_ended) return; // trailing record padding: not part of any member
                if (_regionLeft > 0)
                {
                    var take = (int)Math.Min(_regionLeft, end - offset);
                    ConsumeRegion(buffer, offset, take);
                    offset += take;
                    continue;
                }
                var need = Block - _blockFill;
                var n = Math.Min(need, end - offset);
                Buffer.BlockCopy(buffer, offset, _block, _blockFill, n);
                _blockFill += n;
                offset += n;
                if (_blockFill == Block)
                {
                    _blockFill = 0;
                    OnHeaderBlock();
                }
            }
        }

        /// <summary>
        /// Ends the archive held open by <c>holdEnd</c>: appends one last member (the manifest of a backup, the commit
        /// token of a restore), the end-of-archive blocks and record padding. Call only once the producer's stream
        /// ended (<see cref="Ended"/>).
        /// </summary>
        public void Finish(byte[] manifest, long modifiedSeconds, string name = ManifestName)
        {
            if (!_holdEnd || !_ended || _finished) throw new InvalidOperationException("The archive is not held open at its end.");
            _finished = true;
            Forward(UstarHeader(name, manifest.LongLength, modifiedSeconds));
            Forward(manifest, 0, manifest.Length);
            Forward(new byte[Pad(manifest.LongLength)]);
            Forward(new byte[2 * Block]);
            var tail = (int)(_forwarded % Record);
            if (tail != 0) Forward(new byte[Record - tail]);
            _sink?.Flush();
        }

        private void ConsumeRegion(byte[] buffer, int offset, int count)
        {
            var data = (int)Math.Min(_dataLeft, count);
            if (data > 0)
            {
                switch (_region)
                {
                    case Region.HeaderData:
                        if (_headerData!.Length + data > MaxHeaderData) throw Bad("an extended header is larger than 1 MiB");
                        _headerData.Write(buffer, offset, data);
                        break;
                    case Region.Member:
                        if (_file != null) _hash.AppendData(buffer, offset, data);
                        break;
                    case Region.Manifest:
                        if (_captured!.Length + data > _captureLimit) throw Bad($"the manifest is larger than {_captureLimit} bytes");
                        _captured.Write(buffer, offset, data);
                        break;
                }
                _dataLeft -= data;
            }
            if (_region == Region.HeaderData) _pending.Write(buffer, offset, count);
            else if (_forwardRegion) Forward(buffer, offset, count);
            _regionLeft -= count;
            if (_regionLeft == 0) EndRegion();
        }

        private void EndRegion()
        {
            switch (_region)
            {
                case Region.Member when _file != null:
                    var f = _file;
                    _entries.Add(new TarEntry(f.Path, TarEntryType.File, f.Mode, f.Uid, f.Gid, f.User, f.Group, f.MTime, f.Size, Hex(_hash.GetHashAndReset()), null));
                    _file = null;
                    break;
                case Region.HeaderData:
                    EndHeaderData();
                    break;
                case Region.Manifest:
                    Manifest = _captured!.ToArray();
                    _captured = null;
                    break;
            }
            _region = Region.None;
            _forwardRegion = false;
        }

        private void OnHeaderBlock()
        {
            if (IsZero(_block))
            {
                if (_pending.Length > 0) throw Bad("the archive ends inside a header group");
                _ended = true;
                if (!_holdEnd)
                {
                    Forward(new byte[2 * Block]);
                    _sink?.Flush();
                }
                return;
            }
            if (!ChecksumOk(_block)) throw Bad("a header has a bad checksum");
            var type = (char)_block[156];
            var size = ReadNumber(124, 12);
            if (size < 0) throw Bad("a header has a negative size");
            switch (type)
            {
                case 'x':
                case 'g':
                case 'L':
                case 'K':
                    _pending.Write(_block, 0, Block);
                    _headerData = new MemoryStream();
                    _pendingType = type;
                    StartRegion(Region.HeaderData, size, forward: false);
                    return;
            }
            OnMember(type, size);
        }

        private char _pendingType;

        private void StartRegion(Region region, long size, bool forward)
        {
            _region = region;
            _dataLeft = size;
            _regionLeft = size + Pad(size);
            _forwardRegion = forward;
            if (_regionLeft == 0) EndRegion();
        }

        private void OnMember(char type, long size)
        {
            var path = Normalize(_pax.TryGetValue("path", out var p) ? p : _longName ?? UstarName());
            var link = _pax.TryGetValue("linkpath", out var l) ? l : _longLink ?? Field(157, 100);
            if (_pax.TryGetValue("size", out var s)) size = ParseLong(s, "size");
            if (size < 0) throw Bad("a header has a negative size");
            var entry = new Pending
            {
                Path = PathText.FromBytes(path),
                Mode = (int)(ReadNumber(100, 8) & 0xFFF),
                Uid = _pax.TryGetValue("uid", out var u) ? ParseLong(u, "uid") : ReadNumber(108, 8),
                Gid = _pax.TryGetValue("gid", out var g) ? ParseLong(g, "gid") : ReadNumber(116, 8),
                User = Encoding.UTF8.GetString(_pax.TryGetValue("uname", out var un) ? un : Field(265, 32)),
                Group = Encoding.UTF8.GetString(_pax.TryGetValue("gname", out var gn) ? gn : Field(297, 32)),
                MTime = _pax.TryGetValue("mtime", out var m) ? ParseSeconds(m) : ReadNumber(136, 12),
                Size = size,
            };
            var paxKeys = _confine == null ? Array.Empty<string>() : _pax.Keys.ToArray();
            _pax.Clear();
            _longName = null;
            _longLink = null;
            _currentPath = entry.Path;

            if (_captureManifest && entry.Path == ManifestName && (type == '0' || type == '\0'))
            {
                _pending.SetLength(0);
                _captured = new MemoryStream();
                StartRegion(Region.Manifest, size, forward: false);
                return;
            }

            var kind = TypeOf(type, entry.Path);
            var target = kind == TarEntryType.Symlink ? PathText.FromBytes(link)
                : kind == TarEntryType.HardLink ? PathText.FromBytes(Normalize(link)) : null;
            if (_confine != null)
            {
                _confine.AdmitHeaders(entry.Path, paxKeys, _sawGlobal);
                _confine.Admit(new TarEntry(entry.Path, kind, entry.Mode, entry.Uid, entry.Gid, entry.User, entry.Group, entry.MTime, size, null, target));
            }
            FlushPending();
            Forward(_block, 0, Block);
            if (kind == TarEntryType.File)
            {
                _file = entry;
            }
            else
            {
                _entries.Add(new TarEntry(entry.Path, kind, entry.Mode, entry.Uid, entry.Gid, entry.User, entry.Group, entry.MTime,
                    kind == TarEntryType.Directory ? 0 : size, null, target));
            }
            StartRegion(Region.Member, size, forward: true);
        }

        private void EndHeaderData()
        {
            var data = _headerData!.ToArray();
            _headerData = null;
            switch (_pendingType)
            {
                case 'x':
                    ParsePax(data, _pax);
                    break;
                case 'g':
                    _sawGlobal = true;
                    break; // global defaults: GNU tar writes none for our archives, and none of them matters to the manifest
                case 'L':
                    _longName = TrimNul(data);
                    break;
                case 'K':
                    _longLink = TrimNul(data);
                    break;
            }
            _pendingType = '\0';
        }

        private void FlushPending()
        {
            if (_pending.Length == 0) return;
            Forward(_pending.GetBuffer(), 0, (int)_pending.Length);
            _pending.SetLength(0);
        }

        private void Forward(byte[] bytes) => Forward(bytes, 0, bytes.Length);

        private void Forward(byte[] bytes, int offset, int count)
        {
            if (_sink == null || count == 0) return;
            _sink.Write(bytes, offset, count);
            _forwarded += count;
        }

        private static TarEntryType TypeOf(char type, string path)
        {
            switch (type)
            {
                case '0':
                case '\0':
                case '7':
                    return TarEntryType.File;
                case '1': return TarEntryType.HardLink;
                case '2': return TarEntryType.Symlink;
                case '3': return TarEntryType.CharDevice;
                case '4': return TarEntryType.BlockDevice;
                case '5': return TarEntryType.Directory;
                case '6': return TarEntryType.Fifo;
                default: throw new InvalidDataException($"The archive member '{path}' has the unsupported tar type '{type}'.");
            }
        }

        private byte[] UstarName()
        {
            var name = Field(0, 100);
            var posix = _block[257] == (byte)'u' && _block[262] == 0; // "ustar\0": the prefix field is a path prefix
            if (!posix) return name;
            var prefix = Field(345, 155);
            if (prefix.Length == 0) return name;
            var joined = new byte[prefix.Length + 1 + name.Length];
            Buffer.BlockCopy(prefix, 0, joined, 0, prefix.Length);
            joined[prefix.Length] = (byte)'/';
            Buffer.BlockCopy(name, 0, joined, prefix.Length + 1, name.Length);
            return joined;
        }

        private static byte[] Normalize(byte[] path)
        {
            var start = 0;
            var end = path.Length;
            while (end - start >= 2 && path[start] == '.' && path[start + 1] == '/') start += 2;
            while (end - start > 1 && path[end - 1] == '/') end--;
            if (start == 0 && end == path.Length) return path;
            var result = new byte[end - start];
            Buffer.BlockCopy(path, start, result, 0, result.Length);
            return result;
        }

        private byte[] Field(int offset, int length)
        {
            var end = offset;
            while (end < offset + length && _block[end] != 0) end++;
            var result = new byte[end - offset];
            Buffer.BlockCopy(_block, offset, result, 0, result.Length);
            return result;
        }

        private long ReadNumber(int offset, int length)
        {
            if ((_block[offset] & 0x80) != 0)
            {
                // GNU base-256: big-endian two's complement in the remaining bits.
                long value = _block[offset] & 0x7F;
                if ((value & 0x40) != 0) value |= ~0x7FL;
                for (var i = 1; i < length; i++) value = (value << 8) | _block[offset + i];
                return value;
            }
            long result = 0;
            var seen = false;
            for (var i = offset; i < offset + length; i++)
            {
                var c = _block[i];
                if (c == ' ' && !seen) continue;
                if (c == 0 || c == ' ') break;
                if (c < '0' || c > '7') throw Bad("a header has a malformed number");
                result = result * 8 + (c - '0');
                seen = true;
            }
            return result;
        }

        private static void ParsePax(byte[] data, Dictionary<string, byte[]> into)
        {
            var i = 0;
            while (i < data.Length)
            {
                if (data[i] == 0) break;
                var space = Array.IndexOf(data, (byte)' ', i);
                if (space < 0 || !int.TryParse(Encoding.ASCII.GetString(data, i, space - i), out var length) || length <= 0 || i + length > data.Length)
                    throw new InvalidDataException("The archive has a malformed pax extended header.");
                var recordEnd = i + length; // ends with '\n'
                var eq = Array.IndexOf(data, (byte)'=', space + 1, recordEnd - space - 1);
                if (eq < 0) throw new InvalidDataException("The archive has a malformed pax record.");
                var key = Encoding.UTF8.GetString(data, space + 1, eq - space - 1);
                var value = new byte[recordEnd - 1 - (eq + 1)];
                Buffer.BlockCopy(data, eq + 1, value, 0, value.Length);
                into[key] = value;
                i = recordEnd;
            }
        }

        private static long ParseLong(byte[] value, string key)
        {
            if (!long.TryParse(Encoding.ASCII.GetString(value), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var result))
                throw new InvalidDataException($"The archive has a malformed pax '{key}'.");
            return result;
        }

        private static long ParseSeconds(byte[] value)
        {
            if (!decimal.TryParse(Encoding.ASCII.GetString(value), System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint,
                    System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                throw new InvalidDataException("The archive has a malformed pax 'mtime'.");
            return (long)Math.Floor(seconds);
        }

        private static byte[] TrimNul(byte[] data)
        {
            var end = data.Length;
            while (end > 0 && data[end - 1] == 0) end--;
            var result = new byte[end];
            Buffer.BlockCopy(data, 0, result, 0, end);
            return result;
        }

        private static bool ChecksumOk(byte[] block)
        {
            long unsigned = 0, signed = 0;
            for (var i = 0; i < Block; i++)
            {
                var b = i >= 148 && i < 156 ? (byte)' ' : block[i];
                unsigned += b;
                signed += (sbyte)b;
            }
            long stored = 0;
            for (var i = 148; i < 156; i++)
            {
                var c = block[i];
                if (c == ' ' || c == 0)
                {
                    if (stored != 0 || i > 148) break;
                    continue;
                }
                if (c < '0' || c > '7') return false;
                stored = stored * 8 + (c - '0');
            }
            return stored == unsigned || stored == signed;
        }

        private static bool IsZero(byte[] block)
        {
            foreach (var b in block)
            {
                if (b != 0) return false;
            }
            return true;
        }

        private static long Pad(long size) => (Block - size % Block) % Block;

        private InvalidDataException Bad(string what) => new InvalidDataException($"The archive is malformed: {what}" + (_currentPath != null ? $" (after '{_currentPath}')." : "."));

        internal static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

        /// <summary>A plain ustar header for a small regular file owned by root (the manifest member).</summary>
        internal static byte[] UstarHeader(string name, long size, long modifiedSeconds)
        {
            var h = new byte[Block];
            void Put(int offset, string text) => Encoding.ASCII.GetBytes(text, 0, text.Length, h, offset);
            string Octal(long value, int digits) => Convert.ToString(value, 8).PadLeft(digits, '0');
            Put(0, name);
            Put(100, Octal(0x100, 7)); // mode 0400
            Put(108, Octal(0, 7));
            Put(116, Octal(0, 7));
            Put(124, Octal(size, 11));
            Put(136, Octal(modifiedSeconds, 11));
            Put(148, "        ");
            h[156] = (byte)'0';
            Put(257, "ustar");
            Put(263, "00");
            Put(265, "root");
            Put(297, "root");
            long sum = 0;
            foreach (var b in h) sum += b;
            Put(148, Octal(sum, 6));
            h[154] = 0;
            h[155] = (byte)' ';
            return h;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
                _pending.Dispose();
            }
            base.Dispose(disposing);
        }

        private sealed class Pending
        {
            public string Path = "";
            public int Mode;
            public long Uid;
            public long Gid;
            public string User = "";
            public string Group = "";
            public long MTime;
            public long Size;
        }
    }
}
