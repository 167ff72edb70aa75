using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Deevnet.Extended.Core.Dhcp.Json
{
    /// <summary>
    /// Reads JSON as Kea writes and accepts it: standard JSON plus <c>//</c>, <c>#</c> and <c>/* */</c> comments
    /// (Kea's own parser skips all three). Every node records its offsets in the text so edits can be surgical.
    /// </summary>
    public static class JsonParser
    {
        /// <summary>Parses one JSON document; throws <see cref="FormatException"/> naming the line and column.</summary>
        public static JsonNode Parse(string text)
        {
            var reader = new Reader(text);
            reader.SkipTrivia();
            var value = reader.ReadValue(0);
            reader.SkipTrivia();
            if (!reader.AtEnd) throw reader.Error("unexpected text after the JSON document");
            return value;
        }

        private sealed class Reader
        {
            private const int MaxDepth = 64;
            private readonly string _text;
            private int _pos;

            public Reader(string text) => _text = text ?? throw new ArgumentNullException(nameof(text));

            public bool AtEnd => _pos >= _text.Length;

            public FormatException Error(string what)
            {
                int line = 1, column = 1;
                for (var i = 0; i < _pos && i < _text.Length; i++)
                {
                    if (_text[i] == '\n') { line++; column = 1; }
                    else column++;
                }
                return new FormatException($"JSON error at line {line}, column {column}: {what}");
            }

            public void SkipTrivia()
            {
                while (_pos < _text.Length)
                {
                    var c = _text[_pos];
                    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') _pos++;
                    else if (c == '#' || (c == '/' && Peek(1) == '/')) SkipToLineEnd();
                    else if (c == '/' && Peek(1) == '*')
                    {
                        var close = _text.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                        if (close < 0) throw Error("unterminated /* comment");
                        _pos = close + 2;
                    }
                    else break;
                }
            }

            private void SkipToLineEnd()
            {
                while (_pos < _text.Length && _text[_pos] != '\n') _pos++;
            }

            private char Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

            public JsonNode ReadValue(int depth)
            {
                if (depth > MaxDepth) throw Error("nesting too deep");
                if (AtEnd) throw Error("unexpected end of text");
                var start = _pos;
                var c = _text[_pos];
                JsonNode node;
                switch (c)
                {
                    case '{': node = ReadObject(depth); break;
                    case '[': node = ReadArray(depth); break;
                    case '"': node = JsonNode.FromParser(JsonKind.String, ReadString(), start); break;
                    case 't': node = ReadLiteral("true", JsonKind.True); break;
                    case 'f': node = ReadLiteral("false", JsonKind.False); break;
                    case 'n': node = ReadLiteral("null", JsonKind.Null); break;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) node = ReadNumber();
                        else throw Error($"unexpected character '{c}'");
                        break;
                }
                node.Start = start;
                node.End = _pos;
                return node;
            }

            private JsonNode ReadObject(int depth)
            {
                var node = JsonNode.FromParser(JsonKind.Object, null, _pos);
                _pos++;
                SkipTrivia();
                if (Peek(0) == '}') { _pos++; return node; }
                while (true)
                {
                    SkipTrivia();
                    if (Peek(0) != '"') throw Error("expected a member name in double quotes");
                    var name = ReadString();
                    SkipTrivia();
                    if (Peek(0) != ':') throw Error("expected ':' after a member name");
                    _pos++;
                    SkipTrivia();
                    node.Members.Add(new KeyValuePair<string, JsonNode>(name, ReadValue(depth + 1)));
                    SkipTrivia();
                    var c = Peek(0);
                    _pos++;
                    if (c == '}') return node;
                    if (c != ',') { _pos--; throw Error("expected ',' or '}'"); }
                }
            }

            private JsonNode ReadArray(int depth)
            {
                var node = JsonNode.FromParser(JsonKind.Array, null, _pos);
                _pos++;
                SkipTrivia();
                if (Peek(0) == ']') { _pos++; return node; }
                while (true)
                {
                    SkipTrivia();
                    node.Items.Add(ReadValue(depth + 1));
                    SkipTrivia();
                    var c = Peek(0);
                    _pos++;
                    if (c == ']') return node;
                    if (c != ',') { _pos--; throw Error("expected ',' or ']'"); }
                }
            }

            private JsonNode ReadLiteral(string word, JsonKind kind)
            {
                if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) throw Error($"expected '{word}'");
                var node = JsonNode.FromParser(kind, null, _pos);
                _pos += word.Length;
                return node;
            }

            private JsonNode ReadNumber()
            {
                var start = _pos;
                if (Peek(0) == '-') _pos++;
                while (_pos < _text.Length && "0123456789.eE+-".IndexOf(_text[_pos]) >= 0) _pos++;
                var text = _text.Substring(start, _pos - start);
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) throw Error($"'{text}' is not a number");
                return JsonNode.FromParser(JsonKind.Number, text, start);
            }

            private string ReadString()
            {
                _pos++; // opening quote
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd) throw Error("unterminated string");
                    var c = _text[_pos++];
                    if (c == '"') return sb.ToString();
                    if (c < 0x20) { _pos--; throw Error("control character in a string"); }
                    if (c != '\\') { sb.Append(c); continue; }
                    if (AtEnd) throw Error("unterminated escape");
                    var e = _text[_pos++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (_pos + 4 > _text.Length || !int.TryParse(_text.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                                throw Error("bad \\u escape");
                            sb.Append((char)code);
                            _pos += 4;
                            break;
                        default:
                            _pos--;
                            throw Error($"bad escape '\\{e}'");
                    }
                }
            }
        }
    }
}
