using System;
using System.IO;
using System.Linq;
using Deevnet.Extended.Core.Transport;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    public sealed class KnownHostsFileTests : IDisposable
    {
        private readonly string _dir = TestShell.TempDirectory("deev-kh-");
        private readonly string _keyA;
        private readonly string _keyB;

        public KnownHostsFileTests()
        {
            _keyA = TestShell.KeyPair(_dir, "a") + ".pub";
            _keyB = TestShell.KeyPair(_dir, "b") + ".pub";
        }

        public void Dispose() => Directory.Delete(_dir, true);

        private static HostKey Load(string pub)
        {
            var parts = File.ReadAllText(pub).Split(' ');
            return new HostKey(parts[0], Convert.FromBase64String(parts[1]));
        }

        private static string Blob(string pub) => File.ReadAllText(pub).Split(' ')[1];

        private KnownHostsFile Write(params string[] lines)
        {
            var path = Path.Combine(_dir, "known_hosts");
            File.WriteAllLines(path, lines);
            return KnownHostsFile.Load(path);
        }

        [Fact]
        public void Fingerprint_is_what_ssh_keygen_prints()
        {
            Assert.Equal(TestShell.KeygenFingerprint(_keyA), Load(_keyA).Fingerprint);
            Assert.StartsWith("SHA256:", Load(_keyA).Fingerprint);
            Assert.DoesNotContain("=", Load(_keyA).Fingerprint);
        }

        [Fact]
        public void Plain_entry_and_comma_list_match_their_names_only()
        {
            var file = Write("# comment", "", $"srv1,10.0.0.5 ssh-ed25519 {Blob(_keyA)} comment text");
            Assert.Equal(HostKeyStatus.Known, file.Check("srv1", 22, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Known, file.Check("10.0.0.5", 22, Load(_keyA)).Status);
            Assert.Equal(3, file.Check("SRV1", 22, Load(_keyA)).Recorded!.LineNumber);
            Assert.Equal(HostKeyStatus.Unknown, file.Check("srv2", 22, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Unknown, file.Check("srv1", 2222, Load(_keyA)).Status);
        }

        [Fact]
        public void Bracketed_port_entries_apply_to_that_port_only()
        {
            var file = Write($"[srv1]:2222 ssh-ed25519 {Blob(_keyA)}");
            Assert.Equal(HostKeyStatus.Known, file.Check("srv1", 2222, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Unknown, file.Check("srv1", 22, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Unknown, file.Check("srv1", 2223, Load(_keyA)).Status);
        }

        [Fact]
        public void Hashed_entries_made_by_ssh_keygen_H_match()
        {
            var path = Path.Combine(_dir, "known_hosts");
            File.WriteAllLines(path, new[] { $"srv1 ssh-ed25519 {Blob(_keyA)}", $"[srv2]:2200 ssh-ed25519 {Blob(_keyB)}" });
            TestShell.Run("ssh-keygen", "-q", "-H", "-f", path);
            var file = KnownHostsFile.Load(path);
            Assert.All(file.Entries, e => Assert.True(e.IsHashed));
            Assert.DoesNotContain("srv1", File.ReadAllText(path));
            Assert.Equal(HostKeyStatus.Known, file.Check("srv1", 22, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Known, file.Check("srv2", 2200, Load(_keyB)).Status);
            Assert.Equal(HostKeyStatus.Changed, file.Check("srv1", 22, Load(_keyB)).Status);
            Assert.Equal(HostKeyStatus.Unknown, file.Check("srv3", 22, Load(_keyA)).Status);
        }

        [Fact]
        public void Markers_are_not_host_keys_and_revoked_keys_are_refused()
        {
            var file = Write($"@cert-authority *.example ssh-ed25519 {Blob(_keyA)}", $"@revoked * ssh-ed25519 {Blob(_keyB)}");
            Assert.Equal(HostKeyStatus.Unknown, file.Check("srv1.example", 22, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Revoked, file.Check("srv1", 22, Load(_keyB)).Status);
            Assert.Equal("HostKeyMismatch", file.Check("srv1", 22, Load(_keyB)).ToException()!.ErrorId);
        }

        [Fact]
        public void Wildcards_and_negations_follow_openssh()
        {
            var file = Write($"*.lab,!bad.lab ssh-ed25519 {Blob(_keyA)}");
            Assert.Equal(HostKeyStatus.Known, file.Check("srv.lab", 22, Load(_keyA)).Status);
            Assert.Equal(HostKeyStatus.Unknown, file.Check("bad.lab", 22, Load(_keyA)).Status);
        }

        [Fact]
        public void Unknown_host_error_names_host_type_fingerprint_and_how_to_add()
        {
            var error = Write().Check("srv9", 2200, Load(_keyA)).ToException()!;
            Assert.Equal("HostKeyUnknown", error.ErrorId);
            Assert.Equal(Core.Errors.DeevErrorKind.SecurityError, error.Kind);
            Assert.Contains("srv9:2200", error.Message);
            Assert.Contains("ssh-ed25519", error.Message);
            Assert.Contains(TestShell.KeygenFingerprint(_keyA), error.Message);
            Assert.Contains("Get-DeevHostKey -HostName srv9 -Port 2200", error.Message);
            Assert.Contains("-Add", error.Message);
        }

        [Fact]
        public void Changed_key_error_shows_both_fingerprints_file_and_line()
        {
            var file = Write("# first", $"srv1 ssh-ed25519 {Blob(_keyA)}");
            var error = file.Check("srv1", 22, Load(_keyB)).ToException()!;
            Assert.Equal("HostKeyMismatch", error.ErrorId);
            Assert.Contains(Load(_keyA).Fingerprint, error.Message);
            Assert.Contains(Load(_keyB).Fingerprint, error.Message);
            Assert.Contains(file.Path + " line 2", error.Message);
            Assert.NotNull(error.RecommendedAction);
        }

        [Fact]
        public void Add_appends_a_plain_line_that_ssh_keygen_finds()
        {
            var path = Path.Combine(_dir, "sub", "known_hosts");
            KnownHostsFile.Add(path, "srv1", 22, Load(_keyA));
            KnownHostsFile.Add(path, "srv2", 2200, Load(_keyB));
            var lines = File.ReadAllLines(path);
            Assert.Equal(new[] { $"srv1 ssh-ed25519 {Blob(_keyA)}", $"[srv2]:2200 ssh-ed25519 {Blob(_keyB)}" }, lines);
            Assert.Contains("srv2", TestShell.Run("ssh-keygen", "-F", "[srv2]:2200", "-f", path));
            Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(path)!), f => f.Contains("deevnet-tmp"));
            Assert.Equal(HostKeyStatus.Known, KnownHostsFile.Load(path).Check("srv2", 2200, Load(_keyB)).Status);
        }
    }
}
