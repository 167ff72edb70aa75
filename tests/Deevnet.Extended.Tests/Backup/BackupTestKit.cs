using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Deevnet.Extended.Core.Backup;
using Deevnet.Extended.Core.Diagnostics;
using Deevnet.Extended.Core.Tier;
using Deevnet.Extended.Core.Transport;

namespace Deevnet.Extended.Tests.Backup
{
    /// <summary>Runs /bin/sh scripts for test setup and inspection, with raw (byte) standard output.</summary>
    internal static class Sh
    {
        public static (int Exit, byte[] Output, string Error) RunRaw(string script, string? stdin = null)
        {
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(script);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = new MemoryStream();
            var copy = p.StandardOutput.BaseStream.CopyToAsync(output);
            if (stdin != null) p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            copy.Wait();
            p.WaitForExit();
            return (p.ExitCode, output.ToArray(), err.Result);
        }

        public static string Run(string script)
        {
            var (exit, output, error) = RunRaw(script);
            if (exit != 0) throw new InvalidOperationException($"sh failed ({exit}): {script}\n{error}");
            return Encoding.UTF8.GetString(output);
        }

        public static string Q(string s) => ShellQuote.Quote(s);
    }

    /// <summary>
    /// A test tier with one service whose backup paths are a generated tree, a store folder and an age key pair.
    /// The source host and the restore host are given as vias (local, or lab SSH servers); the store as a path or
    /// ssh:// URL. Everything lives under one folder that Dispose removes.
    /// </summary>
    internal sealed class BackupWorld : IDisposable
    {
        private readonly TransportPool _pool;
        private readonly List<SshTransport> _connections = new List<SshTransport>();

        public BackupWorld(string parent, string sourceVia = "local", string targetVia = "local", string? storeVia = null,
            int keep = 3, string? before = null, string? after = null, bool extraMissingPath = false, string? access = null)
        {
            Directory.CreateDirectory(parent);
            Root = Path.Combine(parent, "bk-" + Guid.NewGuid().ToString("N").Substring(0, 10));
            Directory.CreateDirectory(Root);
            Data = Path.Combine(Root, "data");
            Store = Path.Combine(Root, "store");
            KeyFile = Path.Combine(Root, "age.key");
            Recipient = NewKey(KeyFile);
            SigningKeyFile = Path.Combine(Root, "signing.key");
            AllowedSignersFile = Path.Combine(Root, "allowed_signers");
            NewSigningKey(SigningKeyFile, AllowedSignersFile);
            Marker = "MARKER-" + Guid.NewGuid().ToString("N");
            var storeText = storeVia == null ? Store : storeVia + Store;
            var paths = new List<string> { Data };
            if (extraMissingPath) paths.Add(Path.Combine(Root, "does-not-exist"));
            var backup = new StringBuilder($"paths: [{string.Join(", ", paths.Select(Yaml))}]");
            if (before != null) backup.Append(", before: ").Append(Yaml(before));
            if (after != null) backup.Append(", after: ").Append(Yaml(after));
            TierPath = Path.Combine(Root, "bk.tier.yaml");
            File.WriteAllText(TierPath, $@"site: {{ name: bk, domain: bk.test, macNamespace: ""02:de:77"", vmidRange: [100, 199] }}
{access ?? ""}
segments:
  mgmt: {{ subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static }}
backup: {{ store: {Yaml(storeText)}, recipient: {Recipient}, identityFile: {Yaml(KeyFile)}, signingKeyFile: {Yaml(SigningKeyFile)}, allowedSignersFile: {Yaml(AllowedSignersFile)}, maxAge: 36h, keep: {keep} }}
hosts:
  bksrc: {{ segment: mgmt, ip: 10.231.25.60, via: {Yaml(sourceVia)} }}
  bkdst: {{ segment: mgmt, ip: 10.231.25.61, via: {Yaml(targetVia)} }}
services:
  files: {{ class: observability, host: bksrc, backup: {{ {backup} }} }}
  quiet: {{ class: access, host: bksrc, backup: {{ none: ""stateless"" }} }}
");
            Tier = TierLoader.Load(TierPath);
            _pool = new TransportPool(sshFactory: (via, options) =>
            {
                var ssh = new SshTransport(via, options);
                lock (_connections) _connections.Add(ssh);
                return ssh;
            });
            _storeText = storeText;
            _sourceVia = sourceVia;
            _access = access;
        }

        private readonly string _storeText;
        private readonly string _sourceVia;
        private readonly string? _access;

        public string Root { get; }
        public string Data { get; }
        public string Store { get; }
        public string KeyFile { get; }
        public string Recipient { get; }
        public string SigningKeyFile { get; }
        public string AllowedSignersFile { get; }
        public string Marker { get; }
        public string TierPath { get; }
        public SiteTier Tier { get; }
        public Service Service => Tier.Services.Single(s => s.Name == "files");

        public IHostTransport Transport(Via via) => _pool.Get(via, Tier.Access);

        /// <summary>Closes every SSH connection the world opened, as a dropped network would (the running commands end with ConnectionFailed).</summary>
        public void DropConnections()
        {
            lock (_connections) foreach (var ssh in _connections) ssh.Dispose();
        }

        public BackupEngine Engine(IProgress<OperationProgress>? progress = null) => new BackupEngine(Tier, Transport, null, progress);

        public BackupVerifier Verifier() => new BackupVerifier(Tier, Transport);

        public BackupRestorer Restorer() => new BackupRestorer(Tier, Transport);

        public BackupCatalog Catalog() => new BackupCatalog(Tier, Transport);

        public string ServiceStore => Path.Combine(Store, "files");

        public string[] StoreFiles() => Directory.Exists(ServiceStore) ? Directory.GetFiles(ServiceStore).Select(f => Path.GetFileName(f)!).OrderBy(n => n, StringComparer.Ordinal).ToArray() : Array.Empty<string>();

        /// <summary>A new OpenSSH ed25519 signing key in <paramref name="keyFile"/>, listed (principal deevnet-backup) in <paramref name="allowedSigners"/>.</summary>
        public static void NewSigningKey(string keyFile, string allowedSigners)
        {
            Sh.Run($"umask 077; ssh-keygen -q -t ed25519 -N '' -C deevnet-backup-test -f {Sh.Q(keyFile)}");
            Sh.Run($"printf 'deevnet-backup namespaces=\"deevnet-backup\" %s\\n' \"$(cat {Sh.Q(keyFile + ".pub")})\" >> {Sh.Q(allowedSigners)}");
        }

        /// <summary>
        /// Someone else's backup of this service, put into this world's store: a tree of their own under
        /// <c>Root/planted-&lt;n&gt;</c> (with a marker file), archived by the module itself with the world's public
        /// recipient (so archive, MANIFEST and .meta are all plausible) and sealed with a key of theirs
        /// (<paramref name="signed"/>) or with no seal at all. Returns the planted backup's name and its data folder.
        /// </summary>
        public (string BackupName, string Data) Plant(bool signed)
        {
            var dir = Path.Combine(Root, "planted-" + Guid.NewGuid().ToString("N").Substring(0, 6));
            var data = Path.Combine(dir, "evil");
            Directory.CreateDirectory(data);
            File.WriteAllText(Path.Combine(data, "planted.txt"), "planted by someone else\n");
            var key = Path.Combine(dir, "their.key");
            var allowed = Path.Combine(dir, "their_signers");
            NewSigningKey(key, allowed);
            var tierPath = Path.Combine(dir, "their.tier.yaml");
            File.WriteAllText(tierPath, $@"site: {{ name: bk, domain: bk.test, macNamespace: ""02:de:77"", vmidRange: [100, 199] }}
{_access ?? ""}
segments:
  mgmt: {{ subnet: 10.231.25.0/24, gateway: 10.231.25.1, addressing: static }}
backup: {{ store: {Yaml(_storeText)}, recipient: {Recipient}, signingKeyFile: {Yaml(key)}, allowedSignersFile: {Yaml(allowed)}, keep: 100 }}
hosts:
  bksrc: {{ segment: mgmt, ip: 10.231.25.60, via: {Yaml(_sourceVia)} }}
services:
  files: {{ class: observability, host: bksrc, backup: {{ paths: [{Yaml(data)}] }} }}
");
            var theirs = TierLoader.Load(tierPath);
            using var pool = new TransportPool();
            var result = new BackupEngine(theirs, via => pool.Get(via, theirs.Access)).BackupAsync(theirs.Services.Single(), CancellationToken.None).GetAwaiter().GetResult();
            if (!signed) File.Delete(Path.Combine(ServiceStore, result.BackupName + BackupStore.SealSuffix));
            return (result.BackupName, data);
        }

        /// <summary>A new age key pair in <paramref name="file"/>; returns its recipient.</summary>
        public static string NewKey(string file)
        {
            Sh.Run($"umask 077; age-keygen -o {Sh.Q(file)} 2>/dev/null");
            return Sh.Run($"age-keygen -y {Sh.Q(file)}").Trim();
        }

        /// <summary>
        /// The awkward tree: spaces, newline, tab, backslash, non-UTF-8 bytes, Unicode, a leading dash, names over 100
        /// and paths over 255 bytes, symlinks (file, folder, dangling), a hard link, a FIFO, empty file and folder,
        /// modes 0600/0755/2775/1777/0700, other owners, old times, and optionally a big file.
        /// </summary>
        public void CreateTree(long bigFileBytes = 0)
        {
            var d = Sh.Q(Data);
            var longName = new string('n', 150);
            var deep = string.Join("/", Enumerable.Repeat("deep-folder-name-" + new string('x', 30), 6));
            Sh.Run($@"set -e; umask 022; mkdir -p {d}; cd {d}
printf '%s\n' {Sh.Q(Marker)} > plain.txt
printf 'spaced\n' > 'with space.txt'
printf 'nl\n' > ""$(printf 'new\nline')""
printf 'tab\n' > ""$(printf 'tab\tname')""
printf 'bs\n' > 'back\slash'
printf 'bad\n' > ""$(printf 'bad\377\376name')""
printf 'uni\n' > 'ünïcødé-名前.txt'
printf 'dash\n' > ./-leading-dash
printf 'long\n' > {longName}
mkdir -p {deep}; printf 'deep\n' > {deep}/file.txt
ln -s plain.txt link-to-plain
ln -s 'no such target' dangling-link
mkdir sub; printf 'sub\n' > sub/inner.txt; ln -s sub link-to-dir
ln plain.txt hard-link
mkfifo a-fifo
: > empty-file; mkdir empty-dir
printf 'secret\n' > private.txt; chmod 0600 private.txt
printf '#!/bin/sh\n' > script.sh; chmod 0755 script.sh
mkdir shared; chmod 2775 shared; mkdir sticky; chmod 1777 sticky; mkdir closed; chmod 0700 closed; printf 'c\n' > closed/c.txt
printf 'owned\n' > owned.txt; chown 1234:2345 owned.txt; chown -h 4321:5432 link-to-plain; chown 99:99 sub
touch -d '2001-02-03 04:05:06.123456789' owned.txt; touch -h -d '2002-03-04 05:06:07' link-to-plain; touch -d '2003-01-01 00:00:00' sub
");
            if (bigFileBytes > 0) Sh.Run($"head -c {bigFileBytes} /dev/urandom > {Sh.Q(Path.Combine(Data, "big.bin"))}");
        }

        /// <summary>Every entry under <paramref name="dir"/>: type, mode, owner, time (ns), size, link target and content hash, keyed by relative path bytes.</summary>
        public static SortedDictionary<string, string> Snapshot(string dir)
        {
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            var (exit, meta, err) = Sh.RunRaw($"cd {Sh.Q(dir)} && find . -mindepth 0 -printf '%y %m %U %G %T@ %s %P\\0%l\\0'");
            if (exit != 0) throw new InvalidOperationException(err);
            var parts = Split(meta);
            for (var i = 0; i + 1 < parts.Count; i += 2)
            {
                var head = Encoding.ASCII.GetString(parts[i], 0, IndexOfNth(parts[i], (byte)' ', 6));
                var name = PathText.FromBytes(parts[i].Skip(head.Length + 1).ToArray());
                var fields = head.Split(' ');
                var size = fields[0] == "d" ? "-" : fields[5]; // folder sizes depend on the file system's history
                result[name] = $"{fields[0]} {fields[1]} {fields[2]}:{fields[3]} {fields[4]} {size} -> {PathText.FromBytes(parts[i + 1])}";
            }
            var (exit2, sums, err2) = Sh.RunRaw($"cd {Sh.Q(dir)} && find . -type f -print0 | xargs -0r sha256sum -z");
            if (exit2 != 0) throw new InvalidOperationException(err2);
            foreach (var rec in Split(sums))
            {
                if (rec.Length < 67) continue;
                var hash = Encoding.ASCII.GetString(rec, 0, 64);
                var name = PathText.FromBytes(rec.Skip(66 + 2).ToArray()); // "<hash>  ./name"
                result[name] += " sha256=" + hash;
            }
            return result;
        }

        private static int IndexOfNth(byte[] bytes, byte b, int n)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == b && --n == 0) return i;
            }
            return -1;
        }

        private static List<byte[]> Split(byte[] bytes)
        {
            var list = new List<byte[]>();
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] != 0) continue;
                list.Add(bytes.Skip(start).Take(i - start).ToArray());
                start = i + 1;
            }
            return list;
        }

        private static string Yaml(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

        public void Dispose()
        {
            _pool.Dispose();
            try
            {
                Sh.RunRaw($"chmod -R u+rwx {Sh.Q(Root)} 2>/dev/null; rm -rf {Sh.Q(Root)}");
            }
            catch (Exception)
            {
                // best effort
            }
        }
    }

    /// <summary>Progress that runs an action synchronously, in the middle of the stream (to break it at a known point).</summary>
    internal sealed class InlineProgress : IProgress<OperationProgress>
    {
        private readonly Action<OperationProgress> _action;

        public InlineProgress(Action<OperationProgress> action) => _action = action;

        public List<string> Seen { get; } = new List<string>();

        public void Report(OperationProgress value)
        {
            lock (Seen) Seen.Add(value.Status);
            _action(value);
        }
    }
}
