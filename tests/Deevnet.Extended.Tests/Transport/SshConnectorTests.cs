using System.Linq;
using Deevnet.Extended.Core.Transport;
using Renci.SshNet;
using Xunit;

namespace Deevnet.Extended.Tests.Transport
{
    public sealed class SshConnectorTests
    {
        [Fact]
        public void Aead_ciphers_come_first_and_no_cipher_is_dropped()
        {
            var info = new ConnectionInfo("127.0.0.1", 22, "root", new NoneAuthenticationMethod("root"));
            var before = info.Encryptions.Keys.ToList();
            SshConnector.PreferAeadCiphers(info);
            var after = info.Encryptions.Keys.ToList();
            Assert.Equal(new[] { "aes128-gcm@openssh.com", "aes256-gcm@openssh.com" }, after.Take(2));
            Assert.Equal(before.OrderBy(k => k), after.OrderBy(k => k));
            Assert.Equal(before.Where(k => !k.EndsWith("-gcm@openssh.com")), after.Skip(2));
        }
    }
}
