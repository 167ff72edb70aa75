using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Deevnet.Extended.Commands;

namespace Deevnet.Extended.Tests.Dhcp
{
    /// <summary>Runs the module's cmdlets in-process (no module import) and keeps every stream for assertions.</summary>
    internal sealed class DhcpPowerShell : IDisposable
    {
        private readonly PowerShell _ps;

        public DhcpPowerShell()
        {
            var iss = InitialSessionState.CreateDefault2();
            foreach (var type in typeof(DhcpCmdlet).Assembly.GetTypes().Where(t => !t.IsAbstract && typeof(Cmdlet).IsAssignableFrom(t)))
            {
                var attr = (CmdletAttribute?)Attribute.GetCustomAttribute(type, typeof(CmdletAttribute));
                if (attr != null) iss.Commands.Add(new SessionStateCmdletEntry($"{attr.VerbName}-{attr.NounName}", type, null));
            }
            _ps = PowerShell.Create(iss);
        }

        public Collection<PSObject> Output { get; private set; } = new Collection<PSObject>();
        public IReadOnlyList<ErrorRecord> Errors => _ps.Streams.Error.ToList();
        public IReadOnlyList<string> Information => _ps.Streams.Information.Select(i => i.MessageData?.ToString() ?? "").ToList();
        public IReadOnlyList<string> Verbose => _ps.Streams.Verbose.Select(v => v.Message).ToList();

        /// <summary>Runs a script with <c>$tier</c> (and any other variables) set; errors are collected, not thrown.</summary>
        public Collection<PSObject> Run(string script, IDictionary<string, object?>? variables = null)
        {
            _ps.Commands.Clear();
            _ps.Streams.ClearStreams();
            foreach (var (name, value) in variables ?? new Dictionary<string, object?>()) _ps.Runspace.SessionStateProxy.SetVariable(name, value);
            _ps.AddScript(script);
            try
            {
                Output = _ps.Invoke();
            }
            catch (RuntimeException ex)
            {
                // Terminating errors land here; keep them with the others so tests assert ids the same way.
                _ps.Streams.Error.Add(ex.ErrorRecord);
                Output = new Collection<PSObject>();
            }
            return Output;
        }

        public string ErrorIds => string.Join(", ", Errors.Select(e => e.FullyQualifiedErrorId));

        public void Dispose() => _ps.Dispose();
    }
}
