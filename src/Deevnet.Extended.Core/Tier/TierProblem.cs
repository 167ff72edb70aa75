using System;
using System.Collections.Generic;
using System.Linq;
using Deevnet.Extended.Core.Errors;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>One thing wrong with a tier file, with where it is.</summary>
    public sealed class TierProblem
    {
        /// <summary>Longest message kept: a problem may quote a value, and a hostile file may hold a megabyte scalar.</summary>
        public const int MaxMessageLength = 500;

        public TierProblem(string file, int line, int column, string message)
        {
            File = file;
            Line = line;
            Column = column;
            // Messages quote names from the file; escaped here once, so no reader of a problem has to.
            Message = Text.SafeText.Printable(message.Length > MaxMessageLength ? message.Substring(0, MaxMessageLength) + " …" : message);
        }

        public string File { get; }
        public int Line { get; }
        public int Column { get; }
        public string Message { get; }

        /// <summary><c>file:line:column: message</c>, the form compilers and editors understand.</summary>
        public override string ToString() => $"{Text.SafeText.Printable(File)}:{Line}:{Column}: {Message}";
    }

    /// <summary>
    /// The tier file could not be used. Carries every problem found, not just the first,
    /// so an operator fixes the file in one pass. Error id <c>TierFileInvalid</c>.
    /// </summary>
    public sealed class TierFileInvalidException : DeevException
    {
        /// <summary>Problems written out in the message; the rest are counted (and the first ones kept on <see cref="Problems"/>).</summary>
        public const int MaxInMessage = 100;

        public TierFileInvalidException(string path, IReadOnlyList<TierProblem> problems, int? total = null)
            : base("TierFileInvalid", DeevErrorKind.InvalidData, BuildMessage(path, problems, total ?? problems.Count), path)
        {
            Problems = problems;
            Total = total ?? problems.Count;
            RecommendedAction = "Fix the listed lines in the tier file and run the command again. Nothing was changed anywhere.";
        }

        /// <summary>The problems kept, in file order of discovery.</summary>
        public IReadOnlyList<TierProblem> Problems { get; }

        /// <summary>How many problems the file has (may exceed <see cref="Problems"/>).</summary>
        public int Total { get; }

        private static string BuildMessage(string path, IReadOnlyList<TierProblem> problems, int total)
        {
            var head = total == 1
                ? $"The tier file '{Text.SafeText.Printable(path)}' has 1 problem:"
                : $"The tier file '{Text.SafeText.Printable(path)}' has {total} problems:";
            var message = head + "\n" + string.Join("\n", problems.Take(MaxInMessage).Select(p => "  " + p));
            var rest = total - Math.Min(problems.Count, MaxInMessage);
            return rest > 0 ? message + $"\n  … and {rest} more (fix these first; the first {problems.Count} are on the error's Problems)" : message;
        }
    }

    /// <summary>The problems of one file: every one counted, only the first <see cref="MaxKept"/> kept.</summary>
    public sealed class ProblemLog
    {
        public const int MaxKept = 1000;
        private readonly List<TierProblem> _kept = new List<TierProblem>();

        /// <summary>Every problem found, kept or not.</summary>
        public int Count { get; private set; }

        public IReadOnlyList<TierProblem> Kept => _kept;

        public void Add(TierProblem problem)
        {
            Count++;
            if (_kept.Count < MaxKept) _kept.Add(problem);
        }

        /// <summary>One more problem, beyond those kept, whose text was never built.</summary>
        public void CountOne() => Count++;
    }
}
