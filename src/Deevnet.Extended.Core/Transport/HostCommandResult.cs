using System;

namespace Deevnet.Extended.Core.Transport
{
    /// <summary>A command run on a named host: what Invoke-DeevHostCommand returns.</summary>
    public sealed class HostCommandResult
    {
        public HostCommandResult(string hostName, Via via, CommandResult result)
        {
            HostName = hostName;
            Via = via.ToString();
            ExitStatus = result.ExitStatus;
            StandardOutput = result.StandardOutput;
            StandardError = result.StandardError;
            Duration = result.Duration;
        }

        public string HostName { get; }

        /// <summary>How the host was reached, e.g. <c>ssh://root@10.0.0.5</c>.</summary>
        public string Via { get; }
        public int ExitStatus { get; }
        public string StandardOutput { get; }
        public string StandardError { get; }
        public TimeSpan Duration { get; }
        public bool Succeeded => ExitStatus == 0;
    }
}
