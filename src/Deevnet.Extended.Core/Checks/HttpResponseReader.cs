using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>Status line and decoded body of an HTTP/1.1 response.</summary>
    public sealed class HttpResponse
    {
        public HttpResponse(int status, string reason, string body)
        {
            Status = status;
            Reason = reason;
            Body = body;
        }

        public int Status { get; }
        public string Reason { get; }
        public string Body { get; }
    }

    /// <summary>
    /// Reads one HTTP/1.1 response: until the framing says it is whole (Content-Length or the last chunk), the server
    /// closes, or <c>maxBytes</c> are in — a check needs the status and the start of the body, not a download.
    /// </summary>
    internal static class HttpResponseReader
    {
        public static async Task<HttpResponse> ReadAsync(Stream stream, int maxBytes, CancellationToken cancellationToken)
        {
            var buffer = new MemoryStream();
            var chunk = new byte[16384];
            while (true)
            {
                var n = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false);
                if (n > 0) buffer.Write(chunk, 0, n);
                var parsed = TryParse(buffer.GetBuffer(), (int)buffer.Length, complete: n == 0 || buffer.Length >= maxBytes);
                if (parsed != null) return parsed;
                if (n == 0) throw new CheckFailedException($"The server closed the connection after {buffer.Length} bytes, before a whole HTTP response header.");
            }
        }

        /// <summary>The response, or null while more bytes are needed.</summary>
        private static HttpResponse? TryParse(byte[] data, int length, bool complete)
        {
            var headerEnd = IndexOf(data, length, "\r\n\r\n");
            if (headerEnd < 0) return complete && length > 0 ? throw new CheckFailedException("The answer is not HTTP (no header end).") : null;
            var head = Encoding.ASCII.GetString(data, 0, headerEnd).Split(new[] { "\r\n" }, StringSplitOptions.None);
            var statusLine = head[0].Split(new[] { ' ' }, 3);
            if (statusLine.Length < 2 || !statusLine[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                throw new CheckFailedException($"The answer is not HTTP: '{HttpProbe.Snippet(head[0])}'.");
            }
            var reason = statusLine.Length > 2 ? statusLine[2] : "";
            long? contentLength = null;
            var chunked = false;
            for (var i = 1; i < head.Length; i++)
            {
                var colon = head[i].IndexOf(':');
                if (colon <= 0) continue;
                var name = head[i].Substring(0, colon).Trim();
                var value = head[i].Substring(colon + 1).Trim();
                if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, out var cl)) contentLength = cl;
                if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.IndexOf("chunked", StringComparison.OrdinalIgnoreCase) >= 0) chunked = true;
            }
            var bodyStart = headerEnd + 4;
            var available = length - bodyStart;
            if (chunked)
            {
                var body = Dechunk(data, bodyStart, length, out var whole);
                return whole || complete ? new HttpResponse(status, reason, body) : null;
            }
            if (contentLength.HasValue)
            {
                if (available < contentLength.Value && !complete) return null;
                return new HttpResponse(status, reason, Encoding.UTF8.GetString(data, bodyStart, (int)Math.Min(available, contentLength.Value)));
            }
            // Without framing (or for 204/304) the body ends when the server closes; "Connection: close" was asked for.
            if (status == 204 || status == 304) return new HttpResponse(status, reason, "");
            return complete ? new HttpResponse(status, reason, Encoding.UTF8.GetString(data, bodyStart, available)) : null;
        }

        private static string Dechunk(byte[] data, int start, int length, out bool whole)
        {
            var body = new MemoryStream();
            var pos = start;
            whole = false;
            while (true)
            {
                var lineEnd = IndexOf(data, length, "\r\n", pos);
                if (lineEnd < 0) break;
                var sizeText = Encoding.ASCII.GetString(data, pos, lineEnd - pos).Split(';')[0].Trim();
                if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size)) break;
                if (size == 0)
                {
                    whole = true;
                    break;
                }
                var chunkStart = lineEnd + 2;
                var take = Math.Min(size, length - chunkStart);
                if (take > 0) body.Write(data, chunkStart, take);
                if (take < size) break;
                pos = chunkStart + size + 2;
                if (pos > length) break;
            }
            return Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
        }

        private static int IndexOf(byte[] data, int length, string pattern, int from = 0)
        {
            for (var i = from; i <= length - pattern.Length; i++)
            {
                var match = true;
                for (var j = 0; j < pattern.Length && match; j++) match = data[i + j] == pattern[j];
                if (match) return i;
            }
            return -1;
        }
    }
}
