using System;
using System.Collections.Generic;
using System.IO;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Deevnet.Extended.Core.Tier
{
    /// <summary>
    /// The one way the module reads a YAML file it is given (the tier file, its identity companion). A file is
    /// untrusted input, so the reader bounds what a hostile file can cost — size, nesting depth (YamlDotNet builds the
    /// node tree recursively, and a deep enough file would overflow the stack and kill the whole pwsh process), alias
    /// count and self-referring aliases — and turns *every* failure, whatever the parser throws, into one
    /// <see cref="TierProblem"/> with a line and column. No YamlDotNet or .NET exception type reaches a caller.
    /// </summary>
    public static class YamlFileReader
    {
        /// <summary>Largest file read: a tier of thousands of hosts is well under 1 MiB.</summary>
        public const long MaxBytes = 16L << 20;

        /// <summary>Deepest nesting of mappings and sequences; a tier file needs about six.</summary>
        public const int MaxDepth = 64;

        /// <summary>Most aliases (<c>*name</c>) in one file: enough for shared check lists, too few for an alias bomb.</summary>
        public const int MaxAliases = 1000;

        /// <summary>The outcome: the document's root (null when the file holds no document or a problem stopped the read).</summary>
        public readonly struct Result
        {
            public Result(YamlNode? root, TierProblem? problem)
            {
                Root = root;
                Problem = problem;
            }

            public YamlNode? Root { get; }

            public TierProblem? Problem { get; }
        }

        /// <summary>Reads the file at <paramref name="path"/>; a missing, unreadable or oversized file is a problem at 1:1.</summary>
        public static Result ReadFile(string path)
        {
            try
            {
                var length = new FileInfo(path).Length;
                if (length > MaxBytes) return Failed(path, 1, 1, $"the file is {length} bytes; the module reads YAML files of at most {MaxBytes >> 20} MiB");
                return Read(path, File.ReadAllText(path));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return Failed(path, 1, 1, "cannot be read: " + ex.Message);
            }
        }

        /// <summary>Reads <paramref name="text"/> as the one YAML document of the file <paramref name="path"/>.</summary>
        public static Result Read(string path, string text)
        {
            if (text.Length > MaxBytes) return Failed(path, 1, 1, $"the text is {text.Length} characters; the module reads YAML files of at most {MaxBytes >> 20} MiB");
            var parser = new GuardedParser(new Parser(new StringReader(text)));
            try
            {
                var stream = new YamlStream();
                stream.Load(parser);
                if (stream.Documents.Count > 1)
                {
                    var second = stream.Documents[1].RootNode.Start;
                    return Failed(path, (int)second.Line, (int)second.Column, "the file holds more than one YAML document ('---'); it must be one document");
                }
                return new Result(stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode, null);
            }
            catch (YamlException ex)
            {
                var at = ex.Start.Line > 0 ? ex.Start : parser.Position;
                return Failed(path, (int)at.Line, (int)at.Column, "YAML syntax error: " + SyntaxMessage(ex));
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                // The parser's own bugs (an ArgumentException, an InvalidOperationException …) are still the file's problem.
                return Failed(path, (int)parser.Position.Line, (int)parser.Position.Column, "YAML the parser cannot read: " + ex.Message);
            }
        }

        private static Result Failed(string path, int line, int column, string message) =>
            new Result(null, new TierProblem(path, Math.Max(line, 1), Math.Max(column, 1), message));

        private static string SyntaxMessage(YamlException ex)
        {
            // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: …) - (…): "; the position is reported separately.
            var message = ex.InnerException is YamlException inner && !string.IsNullOrEmpty(inner.Message) ? inner.Message : ex.Message;
            var marker = message.IndexOf("): ", StringComparison.Ordinal);
            if (message.StartsWith("(", StringComparison.Ordinal) && marker > 0) message = message.Substring(marker + 3);
            return message.Trim();
        }

        /// <summary>
        /// Passes the parser's events through and stops the read, with a position, before a bound is crossed: the
        /// node tree is only ever built from events this has let through.
        /// </summary>
        private sealed class GuardedParser : IParser
        {
            private readonly IParser _inner;
            private readonly Stack<string?> _open = new Stack<string?>();
            private int _aliases;

            public GuardedParser(IParser inner) => _inner = inner;

            public ParsingEvent? Current => _inner.Current;

            /// <summary>Where the last event started (1:1 before the first).</summary>
            public Mark Position { get; private set; } = new Mark(0, 1, 1);

            public bool MoveNext()
            {
                if (!_inner.MoveNext()) return false;
                var current = _inner.Current!;
                Position = current.Start;
                switch (current)
                {
                    case MappingStart mapping:
                        Open(mapping, mapping.Anchor.IsEmpty ? null : mapping.Anchor.Value);
                        break;
                    case SequenceStart sequence:
                        Open(sequence, sequence.Anchor.IsEmpty ? null : sequence.Anchor.Value);
                        break;
                    case MappingEnd _:
                    case SequenceEnd _:
                        if (_open.Count > 0) _open.Pop();
                        break;
                    case AnchorAlias alias:
                        if (++_aliases > MaxAliases)
                            throw new YamlException(alias.Start, alias.End, $"more than {MaxAliases} aliases in one file");
                        if (_open.Contains(alias.Value.Value))
                            throw new YamlException(alias.Start, alias.End, $"the alias *{alias.Value.Value} refers to a node that contains it");
                        break;
                }
                return true;
            }

            private void Open(ParsingEvent start, string? anchor)
            {
                if (_open.Count >= MaxDepth)
                    throw new YamlException(start.Start, start.End, $"mappings and sequences nested deeper than {MaxDepth} levels");
                _open.Push(anchor);
            }
        }
    }
}
