using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>The files the lab hands out: the age identity, the tier file, lab.env's secrecy.</summary>
    [SupportedOSPlatform("linux")]   // the lab exists only on Linux
    public class LabFilesTests
    {
        [LabFact]
        public void AgeKeyIsPrivateAndMatchesTheRecipientInLabEnvAndTier()
        {
            var lab = LabEnvironment.Require();
            var key = lab["DEEV_LAB_AGE_KEY"];
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            var derived = LabProcess.Run("age-keygen", "-y", key);
            Assert.True(derived.ExitCode == 0, derived.ToString());
            Assert.Equal(lab["DEEV_LAB_AGE_RECIPIENT"], derived.StdOut.Trim());
            Assert.Contains($"recipient: \"{lab["DEEV_LAB_AGE_RECIPIENT"]}\"", File.ReadAllText(lab["DEEV_LAB_TIER"]));
        }

        [LabFact]
        public void BackupSigningKeyIsPrivateListedInTheAllowedSignersAndNamedByTheTier()
        {
            var lab = LabEnvironment.Require();
            var key = lab["DEEV_LAB_BACKUP_SIGNING_KEY"];
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            var pub = LabProcess.Run("ssh-keygen", "-y", "-f", key);
            Assert.True(pub.ExitCode == 0, pub.ToString());
            var allowed = File.ReadAllText(lab["DEEV_LAB_BACKUP_ALLOWED_SIGNERS"]);
            Assert.Contains("deevnet-backup namespaces=\"deevnet-backup\" " + string.Join(' ', pub.StdOut.Trim().Split(' ').Take(2)), allowed);
            var tier = Core.Tier.TierLoader.Load(lab["DEEV_LAB_TIER"]);
            Assert.Equal(key, tier.Backup!.SigningKeyFile);
            Assert.Equal(lab["DEEV_LAB_BACKUP_ALLOWED_SIGNERS"], tier.Backup.AllowedSignersFile);
        }

        [LabFact]
        public void TierFilePointsAtThisLabRoot()
        {
            var lab = LabEnvironment.Require();
            var tier = File.ReadAllText(lab["DEEV_LAB_TIER"]);
            Assert.Contains(lab.Root + "/", tier);
            if (lab.Root != "/run/deevnet-lab") Assert.DoesNotContain("/run/deevnet-lab/", tier);
        }

        [LabFact]
        public void SecretsAreReadableByRootOnly()
        {
            var lab = LabEnvironment.Require();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(lab.Root, "lab.env")));
            Assert.DoesNotContain(lab["DEEV_LAB_PDNS_API_KEY"], File.ReadAllText(lab["DEEV_LAB_TIER"]));
        }
    }
}
