using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Deevnet.Extended.Commands;

namespace Deevnet.Extended.Tests.Vm
{
    /// <summary>Runs the module's cmdlets in-process, as a user's pipeline would.</summary>
    public static class VmPowerShell
    {
        private static readonly (string Name, Type Type)[] Cmdlets =
        {
            ("New-DeevMgmtVm", typeof(NewDeevMgmtVmCommand)),
            ("Get-DeevMgmtVm", typeof(GetDeevMgmtVmCommand)),
            ("Start-DeevMgmtVm", typeof(StartDeevMgmtVmCommand)),
            ("Stop-DeevMgmtVm", typeof(StopDeevMgmtVmCommand)),
            ("Remove-DeevMgmtVm", typeof(RemoveDeevMgmtVmCommand)),
            ("Get-DeevMgmtHost", typeof(GetDeevMgmtHostCommand)),
            ("New-DeevHostIdentity", typeof(NewDeevHostIdentityCommand)),
            ("Set-DeevDhcpReservation", typeof(SetDeevDhcpReservationCommand)),
            ("Remove-DeevDhcpReservation", typeof(RemoveDeevDhcpReservationCommand)),
        };

        public sealed class Result
        {
            public List<PSObject> Output { get; } = new List<PSObject>();
            public List<ErrorRecord> Errors { get; } = new List<ErrorRecord>();
            public List<string> Information { get; } = new List<string>();
            public List<string> Warnings { get; } = new List<string>();
        }

        /// <summary>Runs <paramref name="script"/> with <c>$t</c> set to the tier path; errors are collected, not thrown.</summary>
        public static Result Run(string script, string tierPath)
        {
            var iss = InitialSessionState.CreateDefault2();
            foreach (var (name, type) in Cmdlets) iss.Commands.Add(new SessionStateCmdletEntry(name, type, null));
            using var ps = PowerShell.Create(iss);
            ps.AddScript("param($t) " + script).AddArgument(tierPath);
            var result = new Result();
            try
            {
                result.Output.AddRange(ps.Invoke());
            }
            catch (RuntimeException ex)
            {
                result.Errors.Add(ex.ErrorRecord);
            }
            result.Errors.AddRange(ps.Streams.Error);
            result.Warnings.AddRange(ps.Streams.Warning.Select(w => w.Message));
            result.Information.AddRange(ps.Streams.Information.Select(i => i.MessageData?.ToString() ?? ""));
            return result;
        }

        public static string Describe(Result r) => string.Join(Environment.NewLine, r.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e.Exception.Message}"));
    }
}
