using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Deevnet.Extended.Tests.Doubles
{
    /// <summary>One HTTP request as <see cref="LoopbackHttpServer"/> read it.</summary>
    /// <param name="Path">The request target's path as sent (still percent-encoded), e.g. <c>/api/kea/service/reconfigure</c>.</param>
    /// <param name="Query">The query string as sent, without the <c>?</c>; empty when there is none.</param>
    internal sealed record HttpRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        /// <summary>A header's value (names are case-insensitive; repeated headers joined with ", "), or null.</summary>
        public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

        public string BodyText => Encoding.UTF8.GetString(Body);
    }

    /// <summary>What a handler answers: a status, a body (JSON unless the server says otherwise), optionally the reason phrase and a Location.</summary>
    internal readonly record struct HttpResponse(int Status, string Body, string? Reason = null, string? Location = null)
    {
        public static implicit operator HttpResponse((int Status, string Body) r) => new HttpResponse(r.Status, r.Body);
    }

    /// <summary>
    /// A small HTTP/1.1 server for test doubles: a <see cref="TcpListener"/> bound to 127.0.0.1:0 (the OS picks the port,
    /// so nothing can take it between choosing and binding), optionally TLS with a given certificate, keep-alive
    /// connections, requests with a <c>Content-Length</c> (or chunked) body. Every request goes to the handler; what it
    /// returns is sent with a <c>Content-Length</c>. A handler that throws answers 500 with <c>{"error": message}</c>.
    /// Dispose stops listening and closes every open connection.
    /// </summary>
    internal sealed class LoopbackHttpServer : IDisposable
    {
        private const int MaxHeadBytes = 64 * 1024;
        private readonly Func<HttpRequest, HttpResponse> _handler;
        private readonly X509Certificate2? _certificate;
        private readonly string _contentType;
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ConcurrentDictionary<TcpClient, byte> _open = new ConcurrentDictionary<TcpClient, byte>();
        private readonly Task _loop;

        public LoopbackHttpServer(Func<HttpRequest, HttpResponse> handler, X509Certificate2? certificate = null, string contentType = "application/json")
        {
            _handler = handler;
            _certificate = certificate;
            _contentType = contentType;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _loop = Task.Run(AcceptLoop);
        }

        /// <summary>The port the OS gave the listener.</summary>
        public int Port { get; }

        /// <summary><c>http://127.0.0.1:port</c>, or <c>https://…</c> with a certificate; no trailing slash.</summary>
        public string Endpoint => $"{(_certificate == null ? "http" : "https")}://127.0.0.1:{Port}";

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (Exception) { return; }   // stopped
                _open[client] = 0;
                if (_stop.IsCancellationRequested) { Close(client); return; }
                _ = Task.Run(() => Serve(client));
            }
        }

        private void Close(TcpClient client)
        {
            _open.TryRemove(client, out _);
            client.Dispose();
        }

        private async Task Serve(TcpClient client)
        {
            try
            {
                client.NoDelay = true;
                Stream stream = client.GetStream();
                if (_certificate != null)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    await ssl.AuthenticateAsServerAsync(_certificate, clientCertificateRequired: false, checkCertificateRevocation: false);
                    stream = ssl;
                }
                await using (stream)
                {
                    var reader = new RequestReader(stream, _stop.Token);
                    while (true)
                    {
                        var (request, keepAlive) = await reader.ReadAsync();
                        if (request == null) return;
                        HttpResponse response;
                        try { response = _handler(request); }
                        catch (Exception ex) { response = new HttpResponse(500, JsonSerializer.Serialize(new { error = ex.Message })); }
                        var body = Encoding.UTF8.GetBytes(response.Body);
                        var head = Encoding.ASCII.GetBytes(
                            $"HTTP/1.1 {response.Status} {response.Reason ?? Reason(response.Status)}\r\n" +
                            $"Content-Type: {_contentType}\r\nContent-Length: {body.Length}\r\n" +
                            (response.Location != null ? $"Location: {response.Location}\r\n" : "") +
                            (keepAlive ? "" : "Connection: close\r\n") + "\r\n");
                        var all = new byte[head.Length + (request.Method == "HEAD" ? 0 : body.Length)];
                        head.CopyTo(all, 0);
                        if (request.Method != "HEAD") body.CopyTo(all, head.Length);
                        await stream.WriteAsync(all, _stop.Token);
                        await stream.FlushAsync(_stop.Token);
                        if (!keepAlive) return;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException || ex is ObjectDisposedException ||
                                       ex is OperationCanceledException || ex is System.Security.Authentication.AuthenticationException ||
                                       ex is InvalidDataException)
            {
                // The client hung up, refused our certificate or sent something that is not HTTP; or the server stops.
            }
            finally
            {
                Close(client);
            }
        }

        public static string Reason(int status) => status switch
        {
            100 => "Continue", 200 => "OK", 201 => "Created", 204 => "No Content", 400 => "Bad Request", 401 => "Unauthorized",
            403 => "Forbidden", 404 => "Not Found", 405 => "Method Not Allowed", 409 => "Conflict", 500 => "Internal Server Error",
            501 => "Not Implemented", 502 => "Bad Gateway", 503 => "Service Unavailable", _ => "Status " + status.ToString(CultureInfo.InvariantCulture),
        };

        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            _listener.Stop();
            foreach (var client in _open.Keys) Close(client);
            try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }

        /// <summary>Reads requests one after another from a keep-alive connection, keeping bytes read past one request for the next.</summary>
        private sealed class RequestReader
        {
            private readonly Stream _stream;
            private readonly CancellationToken _cancel;
            private byte[] _buffer = new byte[16 * 1024];
            private int _start;
            private int _end;

            public RequestReader(Stream stream, CancellationToken cancel)
            {
                _stream = stream;
                _cancel = cancel;
            }

            /// <summary>The next request and whether the connection stays open after its answer; null at a clean end of the connection.</summary>
            public async Task<(HttpRequest? Request, bool KeepAlive)> ReadAsync()
            {
                var requestLine = await ReadLineAsync(atStart: true);
                while (requestLine == "") requestLine = await ReadLineAsync(atStart: true);   // stray CRLF between requests (RFC 9112 §2.2)
                if (requestLine == null) return (null, false);
                var parts = requestLine.Split(' ');
                if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal)) throw new InvalidDataException("bad request line: " + requestLine);
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                var headBytes = requestLine.Length;
                while (true)
                {
                    var line = await ReadLineAsync(atStart: false) ?? throw new InvalidDataException("connection closed inside the request head");
                    if (line.Length == 0) break;
                    headBytes += line.Length;
                    if (headBytes > MaxHeadBytes) throw new InvalidDataException("request head too large");
                    var colon = line.IndexOf(':');
                    if (colon <= 0) throw new InvalidDataException("bad header line: " + line);
                    var name = line[..colon].Trim();
                    var value = line[(colon + 1)..].Trim();
                    headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
                }

                if (headers.TryGetValue("Expect", out var expect) && expect.Equals("100-continue", StringComparison.OrdinalIgnoreCase))
                {
                    await _stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 100 Continue\r\n\r\n"), _cancel);
                    await _stream.FlushAsync(_cancel);
                }

                byte[] body;
                if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    body = await ReadChunkedAsync();
                }
                else if (headers.TryGetValue("Content-Length", out var cl))
                {
                    if (!int.TryParse(cl, NumberStyles.None, CultureInfo.InvariantCulture, out var length)) throw new InvalidDataException("bad Content-Length: " + cl);
                    body = await ReadExactlyAsync(length);
                }
                else body = Array.Empty<byte>();

                var connection = headers.TryGetValue("Connection", out var c) ? c : "";
                var keepAlive = parts[2] == "HTTP/1.1"
                    ? !connection.Contains("close", StringComparison.OrdinalIgnoreCase)
                    : connection.Contains("keep-alive", StringComparison.OrdinalIgnoreCase);
                var target = parts[1];
                var q = target.IndexOf('?');
                return (new HttpRequest(parts[0], q < 0 ? target : target[..q], q < 0 ? "" : target[(q + 1)..], headers, body), keepAlive);
            }

            private async Task<byte[]> ReadChunkedAsync()
            {
                var body = new MemoryStream();
                while (true)
                {
                    var sizeLine = await ReadLineAsync(atStart: false) ?? throw new InvalidDataException("connection closed inside a chunked body");
                    var semicolon = sizeLine.IndexOf(';');
                    if (!int.TryParse(semicolon < 0 ? sizeLine : sizeLine[..semicolon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
                        throw new InvalidDataException("bad chunk size: " + sizeLine);
                    if (size == 0) break;
                    body.Write(await ReadExactlyAsync(size));
                    if (await ReadLineAsync(atStart: false) != "") throw new InvalidDataException("chunk not followed by CRLF");
                }
                while (!string.IsNullOrEmpty(await ReadLineAsync(atStart: false))) { }   // trailers
                return body.ToArray();
            }

            /// <summary>One line without its CRLF (a bare LF also ends it); null if the connection ends before it (cleanly only when <paramref name="atStart"/> and nothing was read).</summary>
            private async Task<string?> ReadLineAsync(bool atStart)
            {
                var scanned = 0;   // bytes after _start already known to hold no LF (FillAsync may move _start)
                while (true)
                {
                    var lf = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
                    if (lf >= 0)
                    {
                        var stop = lf > _start && _buffer[lf - 1] == '\r' ? lf - 1 : lf;
                        var line = Encoding.Latin1.GetString(_buffer, _start, stop - _start);
                        _start = lf + 1;
                        return line;
                    }
                    scanned = _end - _start;
                    if (scanned > MaxHeadBytes) throw new InvalidDataException("request line or header too long");
                    if (!await FillAsync())
                    {
                        if (atStart && scanned == 0) return null;
                        throw new InvalidDataException("connection closed inside a request");
                    }
                }
            }

            private async Task<byte[]> ReadExactlyAsync(int count)
            {
                var result = new byte[count];
                var have = Math.Min(count, _end - _start);
                Array.Copy(_buffer, _start, result, 0, have);
                _start += have;
                if (have < count) await _stream.ReadExactlyAsync(result.AsMemory(have), _cancel);
                return result;
            }

            /// <summary>Reads more bytes after the unread ones (compacting or growing the buffer); false at the end of the stream.</summary>
            private async Task<bool> FillAsync()
            {
                if (_start > 0)
                {
                    Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                var n = await _stream.ReadAsync(_buffer.AsMemory(_end), _cancel);
                _end += n;
                return n > 0;
            }
        }
    }
}
