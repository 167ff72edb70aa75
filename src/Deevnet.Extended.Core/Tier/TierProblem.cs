using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>One thing wrong with a tier file, with where it is.</summary>
    public sealed class TierProblem
    {
        public TierProblem(string file, int line, int column, string message)
        {
            File = file;
            Line = line;
            Column = column;
            Message = message;
        }

        public string File { get; }
        public int Line { get; }
        public int Column { get; }
        public string Message { get; }

        /// <summary><c>file:line:column: message</c>, the form compilers and editors understand.</summary>
        public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
    }

    /// <summary>
    /// The tier file could not be used. Carries every problem found, not just the first,
    /// so an operator fixes the file in one pass. Error id <c>TierFileInvalid</c>.
    /// </summary>
    public sealed class TierFileInvalidException : DeevException
    {
        public TierFileInvalidException(string path, IReadOnlyList<TierProblem> problems)
            : base("TierFileInvalid", DeevErrorKind.InvalidData, BuildMessage(path, problems), path)
        {
            Problems = problems;
            RecommendedAction = "Fix the listed lines in the tier file and run the command again. Nothing was changed anywhere.";
        }

        public IReadOnlyList<TierProblem> Problems { get; }

        private static string BuildMessage(string path, IReadOnlyList<TierProblem> problems)
        {
            var head = problems.Count == 1
                ? $"The tier file '{path}' has 1 problem:"
                : $"The tier file '{path}' has {problems.Count} problems:";
            return head + "\n" + string.Join("\n", problems.Select(p => "  " + p));
        }
    }
}
