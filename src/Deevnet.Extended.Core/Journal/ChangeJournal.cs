using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Deevnet.Extended.Core.Errors;
using Deevnet.Extended.Core.Plans;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Core.Journal
{
    /// <summary>
    /// The tier's change journal: every applied change appends one <see cref="ChangeRecord"/> line. Traceability is
    /// not optional: a writer first proves it can append (<see cref="EnsureWritableAsync"/>) and stops the change
    /// with <c>JournalUnwritable</c> when it cannot. Appends are one write of one whole line to a file opened for
    /// appending (O_APPEND), under an exclusive lock of the file, so concurrent writers never interleave.
    /// </summary>
    public sealed class ChangeJournal
    {
        private static readonly JsonSerializerOptions Options = new JsonSerializerOptions(Text.JsonText.Options) { WriteIndented = false };
        private static readonly Regex SecretArgument = new Regex(@"(-\w*(?:secret|password|passphrase|token|apikey|credential)\w*)(\s+|:)(""[^""]*""|'[^']*'|\S+)",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private readonly JournalLocation _location;
        private readonly Func<Via, IHostTransport>? _transports;

        /// <param name="location">The tier's <c>journal:</c>.</param>
        /// <param name="transports">How a journal on a host is reached (the invocation's pool); not needed for a local one.</param>
        public ChangeJournal(JournalLocation location, Func<Via, IHostTransport>? transports = null)
        {
            _location = location;
            _transports = transports;
        }

        public JournalLocation Location => _location;

        /// <summary>Proves the journal can be appended to (creating it if missing), before any change is made.</summary>
        public async Task EnsureWritableAsync(CancellationToken cancellationToken)
        {
            if (_location.Via == null)
            {
                try
                {
                    using var stream = new FileStream(_location.Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw Unwritable(ex.Message, ex);
                }
                return;
            }
            var file = _location.Path;
            var result = await Remote().RunAsync(ShellQuote.Line($"touch {file} && test -f {file} && test -w {file}"), cancellationToken).ConfigureAwait(false);
            if (result.ExitStatus != 0) throw Unwritable((result.StandardError + result.StandardOutput).Trim(), null);
        }

        /// <summary>Appends one record (a whole line, one write, under the file's lock).</summary>
        public async Task AppendAsync(ChangeRecord record, CancellationToken cancellationToken)
        {
            var line = JsonSerializer.Serialize(record, Options) + "\n";
            if (_location.Via == null)
            {
                try
                {
                    // FileShare.None takes flock(LOCK_EX) on Unix: writers from other processes wait their turn.
                    using var stream = OpenLocked(cancellationToken);
                    var bytes = Encoding.UTF8.GetBytes(line);
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(flushToDisk: true);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw Unwritable(ex.Message, ex);
                }
                return;
            }
            // flock(1) serialises appenders on the host; cat appends the line it is given on stdin.
            var command = ShellQuote.Line($"flock {_location.Path} sh -c {"cat >> \"$0\""} {_location.Path}");
            var result = await Remote().RunAsync(command, cancellationToken, line).ConfigureAwait(false);
            if (result.ExitStatus != 0) throw Unwritable((result.StandardError + result.StandardOutput).Trim(), null);
        }

        /// <summary>Every record of the journal, oldest first; a line that is not a record is reported through <paramref name="skipped"/>.</summary>
        public async Task<IReadOnlyList<ChangeRecord>> ReadAsync(CancellationToken cancellationToken, Action<int, string>? skipped = null)
        {
            string text;
            if (_location.Via == null)
            {
                if (!File.Exists(_location.Path)) return Array.Empty<ChangeRecord>();
                text = await File.ReadAllTextAsync(_location.Path, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var file = _location.Path;
                var result = await Remote().RunAsync(ShellQuote.Line($"[ ! -e {file} ] || cat {file}"), cancellationToken).ConfigureAwait(false);
                if (result.ExitStatus != 0)
                    throw new DeevException("JournalUnreadable", DeevErrorKind.PermissionDenied, $"The change journal {_location} cannot be read: {result.StandardError.Trim()}", _location.ToString());
                text = result.StandardOutput;
            }
            var records = new List<ChangeRecord>();
            var number = 0;
            foreach (var line in text.Split('\n'))
            {
                number++;
                if (line.Trim().Length == 0) continue;
                try
                {
                    if (JsonSerializer.Deserialize<ChangeRecord>(line, Options) is { } record) records.Add(record);
                }
                catch (JsonException ex)
                {
                    skipped?.Invoke(number, ex.Message);
                }
            }
            return records;
        }

        /// <summary>A record for an applied (or failed) plan: the changes that were not "unchanged".</summary>
        public static ChangeRecord RecordOf(ChangePlan plan, string server, string command, string tierPath, string result) => new ChangeRecord
        {
            Time = DateTimeOffset.UtcNow,
            Operator = Operator(),
            Command = Redact(command),
            TierPath = tierPath,
            TierSha256 = HashOf(tierPath),
            Server = server,
            Changes = plan.Changes.Where(c => c.Action != ChangeAction.Unchanged)
                .Select(c => new JournalChange { Kind = c.Kind, Key = c.Key, Action = c.Action.ToString(), Before = c.Before, After = c.After }).ToList(),
            Result = result,
        };

        /// <summary>A command line with the values of secret-looking parameters replaced by <c>***</c>.</summary>
        public static string Redact(string command) => SecretArgument.Replace(command.Trim(), m => m.Groups[1].Value + m.Groups[2].Value + "***");

        /// <summary><c>user@host</c> of whoever runs this process.</summary>
        public static string Operator() => $"{Environment.UserName}@{Environment.MachineName}";

        /// <summary>SHA-256 of the tier file as it is now (hex), so a record says which version of the tier was applied.</summary>
        public static string HashOf(string path)
        {
            try
            {
                using var stream = File.OpenRead(path);
                return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return "";
            }
        }

        private FileStream OpenLocked(CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    return new FileStream(_location.Path, FileMode.Append, FileAccess.Write, FileShare.None);
                }
                catch (IOException) when (DateTime.UtcNow < deadline && File.Exists(_location.Path))
                {
                    // Another writer holds the lock for the moment it takes to append one line.
                    cancellationToken.ThrowIfCancellationRequested();
                    Thread.Sleep(20);
                }
            }
        }

        private IHostTransport Remote() =>
            _transports?.Invoke(_location.Via!) ?? throw new InvalidOperationException("A journal on a host needs a transport.");

        private DeevException Unwritable(string why, Exception? inner) =>
            new DeevException("JournalUnwritable", DeevErrorKind.WriteError,
                $"The change journal {_location} cannot be written ({why}); nothing was changed: every change is recorded first.", _location.ToString(), inner)
            {
                RecommendedAction = "Fix the journal's path or permissions (journal: in the tier file), or pass -SkipJournal to change without a record.",
            };
    }
}
