using System;
using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Utilities;
using Org.BouncyCastle.Security;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>
    /// A host key the module made for a VM it is about to build, so the VM's SSH identity is known before it boots
    /// (handed in through the cloud-init seed) instead of learnt from the network. Made in memory with BouncyCastle
    /// (SSH.NET's own crypto library): the private key is never written on the operator's machine, and
    /// <see cref="ToString"/> shows only the public fingerprint, so it cannot end up in a log by accident.
    /// </summary>
    public sealed class GeneratedHostKey
    {
        private GeneratedHostKey(HostKey publicKey, string privateKeyPem, string comment)
        {
            PublicKey = publicKey;
            PrivateKeyPem = privateKeyPem;
            Comment = comment;
        }

        public HostKey PublicKey { get; }

        /// <summary>The comment of the public key line (the host's name).</summary>
        public string Comment { get; }

        /// <summary><c>ssh-ed25519 AAAA… comment</c>, as in <c>ssh_host_ed25519_key.pub</c>.</summary>
        public string PublicKeyLine => $"{PublicKey.KeyType} {PublicKey.Base64} {Comment}";

        /// <summary>The private key, OpenSSH format (<c>-----BEGIN OPENSSH PRIVATE KEY-----</c>), unencrypted: only for the seed.</summary>
        internal string PrivateKeyPem { get; }

        /// <summary>A fresh ed25519 key pair.</summary>
        public static GeneratedHostKey NewEd25519(string comment)
        {
            var generator = new Ed25519KeyPairGenerator();
            generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
            var pair = generator.GenerateKeyPair();
            var blob = OpenSshPublicKeyUtilities.EncodePublicKey(pair.Public);
            var body = Convert.ToBase64String(OpenSshPrivateKeyUtilities.EncodePrivateKey(pair.Private));
            var pem = new StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
            for (var i = 0; i < body.Length; i += 70) pem.Append(body, i, Math.Min(70, body.Length - i)).Append('\n');
            pem.Append("-----END OPENSSH PRIVATE KEY-----\n");
            return new GeneratedHostKey(new HostKey("ssh-ed25519", blob), pem.ToString(), comment);
        }

        public override string ToString() => PublicKey.ToString();
    }
}
