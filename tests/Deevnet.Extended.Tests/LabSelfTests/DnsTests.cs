using Deevnet.Extended.Tests.Lab;
using Xunit;

namespace Deevnet.Extended.Tests.LabSelfTests
{
    /// <summary>Every DNS server of the lab answers the record written "by hand" and refuses the outside world.</summary>
    public class DnsTests
    {
        public static TheoryData<string, string> Servers => new TheoryData<string, string>
        {
            { "dnsmasq", "53" },
            { "unbound", "DEEV_LAB_UNBOUND_PORT" },
            { "bind", "DEEV_LAB_BIND_PORT" },
            { "powerdns", "DEEV_LAB_PDNS_PORT" },
        };

        private static string Port(LabEnvironment lab, string portOrKey) => char.IsDigit(portOrKey[0]) ? portOrKey : lab[portOrKey];

        private static ProcessResult Dig(LabEnvironment lab, string port, params string[] query)
        {
            var args = new System.Collections.Generic.List<string> { "@" + lab["DEEV_LAB_SSH_HOST"], "-p", port, "+time=2", "+tries=2" };
            args.AddRange(query);
            return LabProcess.Run("dig", args.ToArray());
        }

        [LabTheory]
        [MemberData(nameof(Servers))]
        public void AnswersTheHandMadeRecord(string server, string port)
        {
            var lab = LabEnvironment.Require();
            var r = Dig(lab, Port(lab, port), "+short", "A", "handmade.lab.deevnet.test");
            Assert.True(r.ExitCode == 0, server + ": " + r);
            Assert.Equal("10.231.99.250", r.StdOut.Trim());
        }

        [LabTheory]
        [MemberData(nameof(Servers))]
        public void DoesNotAnswerForNamesOutsideTheLab(string server, string port)
        {
            var lab = LabEnvironment.Require();
            var r = Dig(lab, Port(lab, port), "A", "example.com");
            Assert.True(r.ExitCode == 0, server + ": " + r);
            Assert.DoesNotContain("status: NOERROR", r.StdOut);
        }
    }
}
