using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Deevnet.Extended.Core.Vm.Proxmox
{
    /// <summary>
    /// A small JSON reader for PVE API answers (netstandard2.0 has no JSON in the box, and the module avoids a second
    /// copy of a JSON library next to PowerShell's). Objects become dictionaries, arrays lists, numbers and strings
    /// their text (PVE mixes <c>1</c> and <c>"1"</c> for the same field), true/false bools, null null.
    /// </summary>
    internal static class PveJson
    {
        public static object? Parse(string text)
        {
            var pos = 0;
            var value = ReadValue(text, ref pos, 0);
            SkipSpace(text, ref pos);
            if (pos != text.Length) throw new FormatException($"Unexpected text after JSON at offset {pos}.");
            return value;
        }

        /// <summary>A member of an object as text (numbers, strings and bools alike), or null.</summary>
        public static string? Str(object? obj, string key)
        {
            if (!(obj is Dictionary<string, object?> d) || !d.TryGetValue(key, out var v) || v == null) return null;
            return v is bool b ? (b ? "1" : "0") : v as string ?? v.ToString();
        }

        private static object? ReadValue(string s, ref int pos, int depth)
        {
            if (depth > 64) throw new FormatException("JSON nested too deeply.");
            SkipSpace(s, ref pos);
            if (pos >= s.Length) throw new FormatException("Unexpected end of JSON.");
            var c = s[pos];
            switch (c)
            {
                case '{':
                {
                    pos++;
                    var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                    SkipSpace(s, ref pos);
                    if (Peek(s, pos) == '}') { pos++; return d; }
                    while (true)
                    {
                        SkipSpace(s, ref pos);
                        var key = ReadString(s, ref pos);
                        SkipSpace(s, ref pos);
                        Expect(s, ref pos, ':');
                        d[key] = ReadValue(s, ref pos, depth + 1);
                        SkipSpace(s, ref pos);
                        if (Peek(s, pos) == ',') { pos++; continue; }
                        Expect(s, ref pos, '}');
                        return d;
                    }
                }
                case '[':
                {
                    pos++;
                    var list = new List<object?>();
                    SkipSpace(s, ref pos);
                    if (Peek(s, pos) == ']') { pos++; return list; }
                    while (true)
                    {
                        list.Add(ReadValue(s, ref pos, depth + 1));
                        SkipSpace(s, ref pos);
                        if (Peek(s, pos) == ',') { pos++; continue; }
                        Expect(s, ref pos, ']');
                        return list;
                    }
                }
                case '"':
                    return ReadString(s, ref pos);
                default:
                    if (Word(s, ref pos, "true")) return true;
                    if (Word(s, ref pos, "false")) return false;
                    if (Word(s, ref pos, "null")) return null;
                    var start = pos;
                    while (pos < s.Length && "+-0123456789.eE".IndexOf(s[pos]) >= 0) pos++;
                    if (start == pos) throw new FormatException($"Unexpected '{c}' at offset {pos}.");
                    var number = s.Substring(start, pos - start);
                    if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) throw new FormatException($"Bad number '{number}'.");
                    return number;
            }
        }

        private static string ReadString(string s, ref int pos)
        {
            Expect(s, ref pos, '"');
            var sb = new StringBuilder();
            while (true)
            {
                if (pos >= s.Length) throw new FormatException("Unterminated JSON string.");
                var c = s[pos++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (pos >= s.Length) throw new FormatException("Unterminated JSON escape.");
                var e = s[pos++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u':
                        if (pos + 4 > s.Length) throw new FormatException("Bad \\u escape.");
                        sb.Append((char)int.Parse(s.Substring(pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        pos += 4;
                        break;
                    default: sb.Append(e); break;
                }
            }
        }

        private static bool Word(string s, ref int pos, string word)
        {
            if (string.CompareOrdinal(s, pos, word, 0, word.Length) != 0) return false;
            pos += word.Length;
            return true;
        }

        private static char Peek(string s, int pos) => pos < s.Length ? s[pos] : '\0';

        private static void Expect(string s, ref int pos, char c)
        {
            if (Peek(s, pos) != c) throw new FormatException($"Expected '{c}' at offset {pos}.");
            pos++;
        }

        private static void SkipSpace(string s, ref int pos)
        {
            while (pos < s.Length && char.IsWhiteSpace(s[pos])) pos++;
        }
    }
}
