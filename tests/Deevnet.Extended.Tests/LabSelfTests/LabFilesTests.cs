using System.IO;
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
