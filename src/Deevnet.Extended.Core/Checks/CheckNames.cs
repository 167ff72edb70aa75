using System.Collections.Generic;

namespace Deevnet.Extended.Core.Checks
{
    /// <summary>Every check name the planner produces, with what it proves (tab completion, docs).</summary>
    public static class CheckNames
    {
        public static readonly IReadOnlyDictionary<string, string> All = new SortedDictionary<string, string>
        {
            ["tcp"] = "declared: the port accepts a connection",
            ["http"] = "declared: HTTP status and optional body substring",
            ["https"] = "declared: as http, plus a trusted certificate for the name, not expiring within certDays",
            ["dns"] = "declared: a name resolves to the expected address at the tier's DNS server",
            ["ssh"] = "declared: the SSH server answers with the host key recorded in known_hosts",
            ["command"] = "declared: a command on the host exits 0",
            ["dns-forward"] = "derived: the host's A record is its tier address",
            ["dns-reverse"] = "derived: the host's address has a PTR record naming its FQDN",
            ["dns-cname"] = "derived: a service name is a CNAME to its host and ends at the host's address",
            ["dhcp-reservation"] = "derived: the reservation for the host's MAC gives its tier address (reservation segments)",
            ["identity"] = "derived: the host's MAC is f(VMID) and its VMID is in the site range",
            ["vm"] = "derived: the host's VM exists on its hypervisor with its MAC and starts on boot",
            ["isolation-segment"] = "derived: the address lies only in the host's segment, which is not a tenant segment",
            ["isolation-vantage"] = "derived: management ports are not reachable from the tier's isolation vantage",
            ["backup-declared"] = "derived: the service declares what to back up, or why nothing",
            ["backup-fresh"] = "derived: the newest good backup is younger than backup.maxAge",
        };
    }
}
