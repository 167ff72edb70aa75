using System;
using System.Security.Cryptography;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>An SSH host key: its type (e.g. <c>ssh-ed25519</c>) and its public key blob in SSH wire format.</summary>
    public sealed class HostKey : IEquatable<HostKey>
    {
        private readonly byte[] _blob;

        public HostKey(string keyType, byte[] blob)
        {
            KeyType = keyType ?? throw new ArgumentNullException(nameof(keyType));
            _blob = (byte[])(blob ?? throw new ArgumentNullException(nameof(blob))).Clone();
            Fingerprint = FingerprintOf(_blob);
        }

        /// <summary>Key type as OpenSSH writes it in known_hosts, e.g. <c>ssh-ed25519</c>, <c>ssh-rsa</c>.</summary>
        public string KeyType { get; }

        /// <summary>OpenSSH SHA256 fingerprint, <c>SHA256:</c> plus unpadded base64, as <c>ssh-keygen -lf</c> prints it.</summary>
        public string Fingerprint { get; }

        /// <summary>The key blob in base64, as it appears in known_hosts.</summary>
        public string Base64 => Convert.ToBase64String(_blob);

        public byte[] GetBlob() => (byte[])_blob.Clone();

        public static string FingerprintOf(byte[] blob)
        {
            using var sha = SHA256.Create();
            return "SHA256:" + Convert.ToBase64String(sha.ComputeHash(blob)).TrimEnd('=');
        }

        /// <summary>
        /// The known_hosts key type family: an RSA key is recorded as <c>ssh-rsa</c> whichever signature algorithm
        /// (rsa-sha2-256/512) the server used, so comparisons use this family name.
        /// </summary>
        public static string Family(string keyTypeOrAlgorithm)
        {
            switch (keyTypeOrAlgorithm)
            {
                case "rsa-sha2-256":
                case "rsa-sha2-512":
                    return "ssh-rsa";
                default:
                    return keyTypeOrAlgorithm;
            }
        }

        public bool Equals(HostKey? other)
        {
            if (other is null || Family(other.KeyType) != Family(KeyType) || other._blob.Length != _blob.Length) return false;
            for (var i = 0; i < _blob.Length; i++)
            {
                if (other._blob[i] != _blob[i]) return false;
            }
            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as HostKey);

        public override int GetHashCode() => Fingerprint.GetHashCode();

        public override string ToString() => $"{KeyType} {Fingerprint}";
    }
}
