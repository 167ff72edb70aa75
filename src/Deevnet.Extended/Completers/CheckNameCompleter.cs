using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Deevnet.Extended.Core.Checks;

namespace Deevnet.Extended.Completers
{
    /// <summary>Completes <c>Test-DeevExtendedTier -Check</c> with every check name the engine produces.</summary>
    public sealed class CheckNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var pattern = new WildcardPattern((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return CheckNames.All.Where(n => pattern.IsMatch(n.Key))
                .Select(n => new CompletionResult(n.Key, n.Key, CompletionResultType.ParameterValue, n.Value)).ToList();
        }
    }
}
