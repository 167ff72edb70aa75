using System;
using System.Collections.Generic;
using System.Text;

namespace Deevnet.Extended.Core.Backup
{
    /// <summary>
    /// File names as one line of text. Linux names are bytes: any byte but NUL and '/', not necessarily UTF-8.
    /// A manifest line must hold any of them unambiguously, so: valid UTF-8 stays readable, and a backslash,
    /// every control character (tab, newline …) and every byte of a name that is not valid UTF-8 become <c>\ooo</c>
    /// octal escapes (backslash is <c>\\</c>). <see cref="ToBytes"/> reverses it exactly.
    /// </summary>
    public static class PathText
    {
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        public static string FromBytes(byte[] bytes) => FromBytes(bytes, 0, bytes.Length);

        public static string FromBytes(byte[] bytes, int offset, int count)
        {
            string? text;
            try
            {
                text = StrictUtf8.GetString(bytes, offset, count);
            }
            catch (DecoderFallbackException)
            {
                text = null;
            }
            var sb = new StringBuilder(count + 8);
            if (text != null)
            {
                foreach (var c in text)
                {
                    if (c == '\\') sb.Append("\\\\");
                    else if (c < 0x20 || c == 0x7f) AppendOctal(sb, (byte)c);
                    else sb.Append(c);
                }
                return sb.ToString();
            }
            for (var i = offset; i < offset + count; i++)
            {
                var b = bytes[i];
                if (b == (byte)'\\') sb.Append("\\\\");
                else if (b < 0x20 || b >= 0x7f) AppendOctal(sb, b);
                else sb.Append((char)b);
            }
            return sb.ToString();
        }

        /// <summary>The raw name bytes of an escaped name.</summary>
        public static byte[] ToBytes(string text)
        {
            var bytes = new List<byte>(text.Length + 8);
            var utf8 = new UTF8Encoding(false, false);
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '\\')
                {
                    if (i + 1 < text.Length && text[i + 1] == '\\')
                    {
                        bytes.Add((byte)'\\');
                        i += 2;
                        continue;
                    }
                    if (i + 3 < text.Length && IsOctal(text[i + 1]) && IsOctal(text[i + 2]) && IsOctal(text[i + 3]))
                    {
                        bytes.Add((byte)((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0')));
                        i += 4;
                        continue;
                    }
                    throw new FormatException($"Bad escape in '{text}'.");
                }
                var len = char.IsHighSurrogate(c) && i + 1 < text.Length ? 2 : 1;
                bytes.AddRange(utf8.GetBytes(text.Substring(i, len)));
                i += len;
            }
            return bytes.ToArray();
        }

        private static bool IsOctal(char c) => c >= '0' && c <= '7';

        private static void AppendOctal(StringBuilder sb, byte b) => sb.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0'));
    }
}
