using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace CouponLive.Codes;

/// <summary>
/// Turns (campaignId, sequence) into a 10-character coupon code and back.
/// N = (campaignId &lt;&lt; 32) | sequence is unique, and a keyed Feistel permutation of the
/// 64-bit space keeps it unique while hiding neighbours; the result is written as 9 base-251
/// symbols (most significant first, leading digit whitened) plus a weighted check symbol
/// (mod 251) that catches any single substitution or transposition of two symbols.
/// Immutable after construction, hence thread-safe.
/// </summary>
public sealed class CouponCodeCodec
{
    public const int Length = 10;

    private const int PayloadLength = Length - 1;
    private const int Radix = 251;
    private const int InverseOfTenModRadix = 226; // 10 * 226 = 2260 = 9 * 251 + 1
    private const int FeistelRounds = 8;
    private const int MinKeyLength = 16;
    private const int MaxInputLength = 64; // longer input is rejected before any work is done
    private const byte NotASymbol = 0xFF;

    private const char SyllableFirst = '\uAC00';
    private const char SyllableLast = '\uD7A3';
    private const int SyllablesPerLead = 21 * 28;
    private const int TrailsPerSyllable = 28;

    // NEVER CHANGE THE CONTENT OR ORDER: every issued code depends on it.
    // Symbols 10..250: initials ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ (no tense consonants) x vowels ㅏㅓㅗㅜㅡㅣ
    // (no ㅐ/ㅔ-style look- and sound-alikes), first without a final, then with final ㄴ, then ㄹ
    // (ㄴ/ㄹ are easy to tell apart aloud, unlike ㄴ/ㅇ/ㅁ). Dropped as unusual: 믄븐츤 믈츨촐틸딜닐 힌쿤.
    private const string AlphabetSymbols =
        "0123456789"
        + "가거고구그기나너노누느니다더도두드디라러로루르리마머모무므미바버보부브비사서소수스시"
        + "아어오우으이자저조주즈지차처초추츠치카커코쿠크키타터토투트티파퍼포푸프피하허호후흐히"
        + "간건곤군근긴난넌논눈는닌단던돈둔든딘란런론룬른린만먼몬문민반번본분빈산선손순슨신"
        + "안언온운은인잔전존준즌진찬천촌춘친칸컨콘큰킨탄턴톤툰튼틴판펀폰푼픈핀한헌혼훈흔"
        + "갈걸골굴글길날널놀눌늘달덜돌둘들랄럴롤룰를릴말멀몰물밀발벌볼불블빌살설솔술슬실"
        + "알얼올울을일잘절졸줄즐질찰철출칠칼컬콜쿨클킬탈털톨툴틀팔펄폴풀플필할헐홀훌흘힐";

    // Syllable (offset from U+AC00) -> symbol index, NotASymbol otherwise.
    private static readonly byte[] SyllableToSymbol = BuildSyllableTable();

    private static readonly byte[] FingerprintLabel = "couponlive-code-key-fingerprint"u8.ToArray();

    private readonly ulong _k0;
    private readonly ulong _k1;

    /// <param name="key">Secret, at least 16 bytes. Changing it changes every code.</param>
    public CouponCodeCodec(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"The key must be at least {MinKeyLength} bytes.", nameof(key));
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, digest);
        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(digest);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(digest[8..]);

        // Lets a store remember which key its codes were made with, without revealing the key.
        HMACSHA256.HashData(key, FingerprintLabel, digest);
        KeyFingerprint = Convert.ToHexStringLower(digest[..8]);
        CryptographicOperations.ZeroMemory(digest);
    }

    /// <summary>The 251 symbols: '0'..'9', then 241 Hangul syllables.</summary>
    public static string Alphabet => AlphabetSymbols;

    /// <summary>16 lowercase hex characters identifying the key.</summary>
    public string KeyFingerprint { get; }

    public string Encode(long campaignId, long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(campaignId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(campaignId, uint.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequence, uint.MaxValue);

        ulong permuted = Permute(((ulong)campaignId << 32) | (ulong)sequence);
        return string.Create(Length, permuted, static (chars, value) =>
        {
            int digitSum = 0;
            int weighted = 0;
            for (int i = PayloadLength - 1; i >= 1; i--)
            {
                int digit = (int)(value % Radix);
                value /= Radix;
                chars[i] = AlphabetSymbols[digit];
                digitSum += digit;
                weighted += (i + 1) * digit;
            }

            int lead = WhitenLead((int)value, digitSum);
            chars[0] = AlphabetSymbols[lead];
            weighted += lead;
            chars[PayloadLength] = AlphabetSymbols[CheckSymbol(weighted)];
        });
    }

    /// <summary>
    /// Accepts anything <see cref="TryNormalize"/> accepts. True only for a correct check symbol
    /// and a result in range; a true result still has to be looked up (most valid N were never issued).
    /// </summary>
    public bool TryDecode(string? code, out long campaignId, out long sequence)
    {
        campaignId = 0;
        sequence = 0;

        Span<byte> symbols = stackalloc byte[Length];
        if (!TryReadSymbols(code, symbols) || !CheckIsValid(symbols))
        {
            return false;
        }

        int digitSum = 0;
        for (int i = 1; i < PayloadLength; i++)
        {
            digitSum += symbols[i];
        }

        ulong value = (ulong)UnwhitenLead(symbols[0], digitSum);
        for (int i = 1; i < PayloadLength; i++)
        {
            // 251^9 > 2^64, so most payloads do not fit.
            if (value > (ulong.MaxValue - symbols[i]) / Radix)
            {
                return false;
            }

            value = (value * Radix) + symbols[i];
        }

        ulong n = Unpermute(value);
        uint campaign = (uint)(n >> 32);
        uint seq = (uint)n;
        if (campaign == 0 || seq == 0)
        {
            return false;
        }

        campaignId = campaign;
        sequence = seq;
        return true;
    }

    /// <summary>
    /// Composes Hangul jamo as NFC does, drops separators a person might type, maps fullwidth
    /// digits to ASCII. True only if exactly 10 alphabet symbols remain; the check symbol is not verified.
    /// </summary>
    public static bool TryNormalize(string? input, out string normalized)
    {
        Span<byte> symbols = stackalloc byte[Length];
        if (!TryReadSymbols(input, symbols))
        {
            normalized = string.Empty;
            return false;
        }

        if (IsCanonical(input, symbols))
        {
            normalized = input; // the common case: no allocation
            return true;
        }

        normalized = string.Create(Length, symbols, static (chars, s) =>
        {
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = AlphabetSymbols[s[i]];
            }
        });
        return true;
    }

    private static bool IsCanonical(string input, ReadOnlySpan<byte> symbols)
    {
        if (input.Length != Length)
        {
            return false;
        }

        for (int i = 0; i < Length; i++)
        {
            if (input[i] != AlphabetSymbols[symbols[i]])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Well-formed (after <see cref="TryNormalize"/>) with a correct check symbol; needs no key.</summary>
    public static bool HasValidCheck(string? code)
    {
        Span<byte> symbols = stackalloc byte[Length];
        return TryReadSymbols(code, symbols) && CheckIsValid(symbols);
    }

    private ulong Permute(ulong n)
    {
        uint left = (uint)(n >> 32);
        uint right = (uint)n;
        for (uint round = 0; round < FeistelRounds; round++)
        {
            uint next = left ^ RoundFunction(round, right);
            left = right;
            right = next;
        }

        return ((ulong)left << 32) | right;
    }

    private ulong Unpermute(ulong n)
    {
        uint left = (uint)(n >> 32);
        uint right = (uint)n;
        for (uint round = FeistelRounds; round-- > 0;)
        {
            uint previous = right ^ RoundFunction(round, left);
            right = left;
            left = previous;
        }

        return ((ulong)left << 32) | right;
    }

    // Message = 8 bytes: round index (uint32 LE) then right half (uint32 LE); low 32 bits of the tag.
    private uint RoundFunction(uint round, uint half) =>
        (uint)SipHash24.Hash(_k0, _k1, ((ulong)half << 32) | round);

    // 251^9 is about 2^71.8, so the leading base-251 digit of a 64-bit value is only ever 0 or 1.
    // Adding the other 8 digits (mod 251) spreads it over the whole alphabet; keyless and invertible.
    private static int WhitenLead(int leadDigit, int otherDigitSum) => (leadDigit + otherDigitSum) % Radix;

    private static int UnwhitenLead(int leadSymbol, int otherDigitSum) =>
        (leadSymbol - (otherDigitSum % Radix) + Radix) % Radix;

    private static int CheckSymbol(int weightedPayloadSum)
    {
        // Choose c with weightedPayloadSum + 10 * c ≡ 0 (mod 251).
        int remainder = weightedPayloadSum % Radix;
        return (Radix - remainder) % Radix * InverseOfTenModRadix % Radix;
    }

    private static bool CheckIsValid(ReadOnlySpan<byte> symbols)
    {
        int sum = 0;
        for (int i = 0; i < Length; i++)
        {
            sum += (i + 1) * symbols[i];
        }

        return sum % Radix == 0;
    }

    // Single pass, no allocation, never throws. Whitelists characters up front, so lone
    // surrogates, emoji, combining marks etc. are rejected before anything else happens.
    // Hangul composition is done algorithmically (Unicode 3.12): for the whitelisted repertoire
    // this equals NFC, and it does not depend on ICU (works in globalization-invariant mode).
    private static bool TryReadSymbols([NotNullWhen(true)] string? input, Span<byte> symbols)
    {
        if (input is null || input.Length < Length || input.Length > MaxInputLength)
        {
            return false;
        }

        int count = 0;
        int pending = -1; // last char, kept back because a following jamo may still compose with it
        foreach (char raw in input)
        {
            char c = raw;
            if (IsSeparator(c))
            {
                continue;
            }

            if (c is >= '\uFF10' and <= '\uFF19')
            {
                c = (char)(c - '\uFF10' + '0');
            }

            if (c is >= '\u1161' and <= '\u1175') // medial vowel: composes with a preceding initial
            {
                if (pending is >= 0x1100 and <= 0x1112)
                {
                    pending = SyllableFirst + ((pending - 0x1100) * SyllablesPerLead) + ((c - 0x1161) * TrailsPerSyllable);
                    continue;
                }

                return false;
            }

            if (c is >= '\u11A8' and <= '\u11C2') // final consonant: composes with a preceding LV syllable
            {
                if (pending >= SyllableFirst && pending <= SyllableLast && (pending - SyllableFirst) % TrailsPerSyllable == 0)
                {
                    pending += c - 0x11A7;
                    continue;
                }

                return false;
            }

            if (!(c is >= '0' and <= '9' or >= SyllableFirst and <= SyllableLast or >= '\u1100' and <= '\u1112'))
            {
                return false;
            }

            if (pending >= 0 && !Emit(pending, symbols, ref count))
            {
                return false;
            }

            pending = c;
        }

        return pending >= 0 && Emit(pending, symbols, ref count) && count == Length;
    }

    private static bool Emit(int c, Span<byte> symbols, ref int count)
    {
        if (count == Length)
        {
            return false;
        }

        byte symbol = c switch
        {
            >= '0' and <= '9' => (byte)(c - '0'),
            >= SyllableFirst and <= SyllableLast => SyllableToSymbol[c - SyllableFirst],
            _ => NotASymbol, // an initial consonant that no vowel followed
        };
        if (symbol == NotASymbol)
        {
            return false;
        }

        symbols[count++] = symbol;
        return true;
    }

    private static bool IsSeparator(char c) =>
        c switch
        {
            '-' or '_' or '\u2212' or '\uFF0D' or '\uFF3F' => true, // hyphen, underscore, minus, fullwidth forms
            >= '\u2010' and <= '\u2015' => true, // Unicode hyphens and dashes
            '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' => true, // zero-width characters, BOM
            _ => char.IsWhiteSpace(c), // space, tab, newlines, NBSP, ideographic space, ...
        };

    private static byte[] BuildSyllableTable()
    {
        var table = new byte[SyllableLast - SyllableFirst + 1];
        Array.Fill(table, NotASymbol);
        for (int i = 10; i < AlphabetSymbols.Length; i++)
        {
            table[AlphabetSymbols[i] - SyllableFirst] = (byte)i;
        }

        return table;
    }
}
