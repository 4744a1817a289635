using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using CouponLive.Codes;

namespace CouponLive.Tests.Codes;

public sealed class CouponCodeCodecTests
{
    private const int Radix = 251;

    private static readonly byte[] KeyA = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] KeyB = Enumerable.Range(0, 32).Select(i => (byte)(200 - i)).ToArray();

    private static readonly CouponCodeCodec CodecA = new(KeyA);
    private static readonly CouponCodeCodec CodecB = new(KeyB);

    // ---------- SipHash-2-4 ----------

    [Fact]
    public void SipHashMatchesPaperAppendixVector()
    {
        // SipHash paper, Appendix A: key 00..0f, message 00..0e -> a129ca6149be45e5.
        byte[] message = Enumerable.Range(0, 15).Select(i => (byte)i).ToArray();
        Assert.Equal(0xa129ca6149be45e5UL, SipHash24.Hash(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, message));
    }

    [Theory]
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(1, 0x74f839c593dc67fdUL)]
    [InlineData(2, 0x0d6c8009d9a94f5aUL)]
    [InlineData(7, 0xab0200f58b01d137UL)]
    [InlineData(8, 0x93f5f5799a932462UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    [InlineData(16, 0x3f2acc7f57c29bdbUL)]
    public void SipHashMatchesReferenceVectors(int length, ulong expected)
    {
        // Reference implementation's vectors: key 00..0f (as bytes), message 00..(length-1).
        byte[] key = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
        byte[] message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        ulong k0 = BinaryPrimitives.ReadUInt64LittleEndian(key);
        ulong k1 = BinaryPrimitives.ReadUInt64LittleEndian(key.AsSpan(8));

        Assert.Equal(expected, SipHash24.Hash(k0, k1, message));
    }

    [Fact]
    public void SipHashWordOverloadMatchesVectorAndByteOverload()
    {
        Assert.Equal(0x93f5f5799a932462UL, SipHash24.Hash(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL, 0x0706050403020100UL));

        var random = new Random(11);
        byte[] bytes = new byte[8];
        for (int i = 0; i < 10_000; i++)
        {
            ulong k0 = NextUInt64(random), k1 = NextUInt64(random), m = NextUInt64(random);
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, m);
            Assert.Equal(SipHash24.Hash(k0, k1, bytes), SipHash24.Hash(k0, k1, m));
        }
    }

    // ---------- Conformance with the written design (independent model) ----------

    [Fact]
    public void EncodeMatchesIndependentModelOfTheDesign()
    {
        var random = new Random(1);
        for (int i = 0; i < 2_000; i++)
        {
            long campaign = NextInRange(random);
            long sequence = NextInRange(random);
            Assert.Equal(ModelEncode(KeyA, campaign, sequence), CodecA.Encode(campaign, sequence));
            Assert.Equal(ModelEncode(KeyB, campaign, sequence), CodecB.Encode(campaign, sequence));
        }

        Assert.Equal(ModelEncode(KeyA, 1, 1), CodecA.Encode(1, 1));
        Assert.Equal(ModelEncode(KeyA, uint.MaxValue, uint.MaxValue), CodecA.Encode(uint.MaxValue, uint.MaxValue));
    }

    // ---------- Round trip ----------

    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(1L, 4294967295L)]
    [InlineData(4294967295L, 1L)]
    [InlineData(4294967295L, 4294967295L)]
    [InlineData(2L, 3L)]
    [InlineData(12345L, 678L)]
    [InlineData(2147483648L, 2147483647L)]
    public void RoundTripEdgeValues(long campaign, long sequence)
    {
        string code = CodecA.Encode(campaign, sequence);

        Assert.Equal(CouponCodeCodec.Length, code.Length);
        Assert.True(CodecA.TryDecode(code, out long decodedCampaign, out long decodedSequence));
        Assert.Equal(campaign, decodedCampaign);
        Assert.Equal(sequence, decodedSequence);
    }

    [Fact]
    public void RoundTripRandomValuesAndCampaigns()
    {
        var random = new Random(2);
        for (int i = 0; i < 100_000; i++)
        {
            long campaign = i % 4 == 0 ? 1 + (i % 7) : NextInRange(random);
            long sequence = NextInRange(random);
            string code = CodecB.Encode(campaign, sequence);
            Assert.True(CodecB.TryDecode(code, out long c, out long s), code);
            Assert.Equal((campaign, sequence), (c, s));
        }
    }

    [Theory]
    [InlineData(0L, 1L)]
    [InlineData(1L, 0L)]
    [InlineData(-1L, 1L)]
    [InlineData(1L, -1L)]
    [InlineData(4294967296L, 1L)]
    [InlineData(1L, 4294967296L)]
    [InlineData(long.MinValue, 1L)]
    [InlineData(1L, long.MaxValue)]
    public void EncodeRejectsOutOfRange(long campaign, long sequence)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CodecA.Encode(campaign, sequence));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    public void ConstructorRejectsShortKey(int length)
    {
        byte[] key = new byte[length];
        Assert.Throws<ArgumentException>(() => new CouponCodeCodec(key));
    }

    [Fact]
    public void ConstructorAcceptsSixteenByteKey()
    {
        var codec = new CouponCodeCodec(new byte[16]);
        Assert.True(codec.TryDecode(codec.Encode(5, 6), out long c, out long s));
        Assert.Equal((5L, 6L), (c, s));
    }

    [Fact]
    public void TryDecodeRejectsPayloadsOutsideTheValidRanges()
    {
        // Built with the model (not the codec): payload above 2^64, campaign 0, sequence 0.
        Assert.False(CodecA.TryDecode(ModelWrite(UInt128.MaxValue % BigPow(9)), out _, out _));
        Assert.False(CodecA.TryDecode(ModelWrite((UInt128)ulong.MaxValue + 1), out _, out _));
        Assert.True(CodecA.TryDecode(ModelWrite(ModelPermute(KeyA, (1UL << 32) | 1)), out _, out _));
        Assert.False(CodecA.TryDecode(ModelWrite(ModelPermute(KeyA, 12345)), out _, out _));
        Assert.False(CodecA.TryDecode(ModelWrite(ModelPermute(KeyA, 12345UL << 32)), out _, out _));
        Assert.False(CodecA.TryDecode(ModelWrite(ModelPermute(KeyA, 0)), out _, out _));

        // The check is right, so only the range test can have rejected these.
        Assert.True(CouponCodeCodec.HasValidCheck(ModelWrite(ModelPermute(KeyA, 12345))));
    }

    // ---------- Uniqueness ----------

    [Fact]
    public void UniquenessMillionConsecutiveSequencesAndOtherCampaigns()
    {
        bool[] inAlphabet = AlphabetMask();
        var codes = new HashSet<string>(1_600_000, StringComparer.Ordinal);
        int total = 0;

        void AddRange(long campaign, int count)
        {
            for (long seq = 1; seq <= count; seq++)
            {
                string code = CodecA.Encode(campaign, seq);
                Assert.Equal(CouponCodeCodec.Length, code.Length);
                foreach (char ch in code)
                {
                    Assert.True(inAlphabet[ch], code);
                }

                Assert.True(CouponCodeCodec.HasValidCheck(code), code);
                Assert.True(codes.Add(code), $"duplicate {code} (campaign {campaign}, sequence {seq})");
                total++;
            }
        }

        AddRange(7, 1_000_000);
        AddRange(1, 200_000);
        AddRange(8, 200_000);
        AddRange(uint.MaxValue, 200_000);

        Assert.Equal(1_600_000, total);
        Assert.Equal(total, codes.Count);
    }

    // ---------- Alphabet ----------

    [Fact]
    public void AlphabetHas251DistinctSymbolsDigitsFirstThenSyllables()
    {
        string alphabet = CouponCodeCodec.Alphabet;

        Assert.Equal(251, alphabet.Length);
        Assert.Equal(251, alphabet.Distinct().Count());
        Assert.Equal("0123456789", alphabet[..10]);
        Assert.All(alphabet[10..], ch => Assert.InRange(ch, '\uAC00', '\uD7A3'));
    }

    [Fact]
    public void AlphabetSyllablesAreAllInKsX1001()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        Encoding cp949 = Encoding.GetEncoding(949, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);

        foreach (char syllable in CouponCodeCodec.Alphabet[10..])
        {
            byte[] bytes = cp949.GetBytes(syllable.ToString());
            Assert.Equal(2, bytes.Length);
            int code = (bytes[0] << 8) | bytes[1];
            Assert.InRange(code, 0xB0A1, 0xC8FE);
            Assert.InRange(bytes[1], (byte)0xA1, (byte)0xFE); // a real KS X 1001 cell, not just the numeric range
            Assert.Equal(syllable.ToString(), cp949.GetString(bytes));
        }
    }

    [Fact]
    public void AlphabetUsesOnlyReadableJamo()
    {
        const string leads = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";
        const string vowels = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ";

        foreach (char syllable in CouponCodeCodec.Alphabet[10..])
        {
            int index = syllable - 0xAC00;
            char lead = leads[index / 588];
            char vowel = vowels[index % 588 / 28];
            int tail = index % 28;

            Assert.DoesNotContain(lead, "ㄲㄸㅃㅆㅉ"); // tense consonants
            Assert.Contains(vowel, "ㅏㅓㅗㅜㅡㅣ");
            Assert.True(tail is 0 or 4 or 8, $"{syllable} has a final other than ㄴ/ㄹ");
        }

        foreach (char rare in "뷁똠햏")
        {
            Assert.DoesNotContain(rare, CouponCodeCodec.Alphabet);
        }
    }

    [Fact]
    public void AlphabetOrderFollowsTheDocumentedConstruction()
    {
        // Pins the order: any reordering would silently change every issued code.
        int[] leads = [0, 2, 3, 5, 6, 7, 9, 11, 12, 14, 15, 16, 17, 18]; // ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ
        int[] vowels = [0, 4, 8, 13, 18, 20]; // ㅏㅓㅗㅜㅡㅣ
        int[] tails = [0, 4, 8]; // none, ㄴ, ㄹ
        const string dropped = "믄븐츤믈츨촐틸딜닐힌쿤";

        var expected = new StringBuilder("0123456789");
        foreach (int tail in tails)
        {
            foreach (int lead in leads)
            {
                foreach (int vowel in vowels)
                {
                    char syllable = (char)(0xAC00 + (((lead * 21) + vowel) * 28) + tail);
                    if (!dropped.Contains(syllable, StringComparison.Ordinal))
                    {
                        expected.Append(syllable);
                    }
                }
            }
        }

        Assert.Equal(expected.ToString(), CouponCodeCodec.Alphabet);
    }

    // ---------- Check character ----------

    [Fact]
    public void CheckCharacterSatisfiesWeightedSum()
    {
        var random = new Random(3);
        for (int i = 0; i < 10_000; i++)
        {
            string code = CodecA.Encode(NextInRange(random), NextInRange(random));
            int sum = 0;
            for (int p = 0; p < code.Length; p++)
            {
                sum += (p + 1) * SymbolOf(code[p]);
            }

            Assert.Equal(0, sum % Radix);
        }
    }

    [Fact]
    public void CheckCharacterCatchesEverySingleSubstitution()
    {
        string alphabet = CouponCodeCodec.Alphabet;
        foreach (string code in SampleCodes(30))
        {
            Assert.True(CouponCodeCodec.HasValidCheck(code));
            char[] chars = code.ToCharArray();
            for (int position = 0; position < chars.Length; position++)
            {
                char original = chars[position];
                foreach (char replacement in alphabet)
                {
                    if (replacement == original)
                    {
                        continue;
                    }

                    chars[position] = replacement;
                    string typo = new(chars);
                    Assert.False(CouponCodeCodec.HasValidCheck(typo), $"{code} -> {typo}");
                    Assert.False(CodecA.TryDecode(typo, out _, out _), $"{code} -> {typo}");
                }

                chars[position] = original;
            }
        }
    }

    [Fact]
    public void CheckCharacterCatchesEveryTransposition()
    {
        int tested = 0;
        foreach (string code in SampleCodes(200))
        {
            for (int i = 0; i < code.Length; i++)
            {
                for (int j = i + 1; j < code.Length; j++)
                {
                    if (code[i] == code[j])
                    {
                        continue;
                    }

                    char[] chars = code.ToCharArray();
                    (chars[i], chars[j]) = (chars[j], chars[i]);
                    string typo = new(chars);
                    Assert.False(CouponCodeCodec.HasValidCheck(typo), $"{code} -> {typo}");
                    Assert.False(CodecA.TryDecode(typo, out _, out _), $"{code} -> {typo}");
                    tested++;
                }
            }
        }

        Assert.True(tested > 200 * 40, $"only {tested} transpositions tested");
    }

    // ---------- Keyed, no visible structure ----------

    [Fact]
    public void DifferentKeysGiveDifferentCodes()
    {
        byte[] keyC = (byte[])KeyA.Clone();
        keyC[^1] ^= 1; // differs only in the last byte: the whole key must matter
        var codecC = new CouponCodeCodec(keyC);

        var random = new Random(4);
        double equalPositions = 0;
        const int count = 5_000;
        for (int i = 0; i < count; i++)
        {
            long campaign = NextInRange(random), sequence = NextInRange(random);
            string a = CodecA.Encode(campaign, sequence);
            string b = CodecB.Encode(campaign, sequence);
            string c = codecC.Encode(campaign, sequence);

            Assert.NotEqual(a, b);
            Assert.NotEqual(a, c);
            equalPositions += EqualPositions(a, b) + EqualPositions(a, c);

            // Another key never reads someone else's code as the same coupon.
            if (CodecB.TryDecode(a, out long otherCampaign, out long otherSequence))
            {
                Assert.NotEqual((campaign, sequence), (otherCampaign, otherSequence));
            }
        }

        Assert.True(equalPositions / (2 * count) < 0.1, $"average equal positions {equalPositions / (2 * count)}");
    }

    [Fact]
    public void NeighbourCodesShareNoPositionalStructure()
    {
        var random = new Random(5);
        const int pairs = 10_000;
        int[] perPosition = new int[CouponCodeCodec.Length];
        long seqNeighbourTotal = 0, campaignNeighbourTotal = 0;

        for (int i = 0; i < pairs; i++)
        {
            long campaign = 1 + random.NextInt64(uint.MaxValue - 1);
            long sequence = 1 + random.NextInt64(uint.MaxValue - 1);
            string code = CodecA.Encode(campaign, sequence);
            string nextSequence = CodecA.Encode(campaign, sequence + 1);
            string nextCampaign = CodecA.Encode(campaign + 1, sequence);

            for (int p = 0; p < code.Length; p++)
            {
                if (code[p] == nextSequence[p])
                {
                    perPosition[p]++;
                }
            }

            seqNeighbourTotal += EqualPositions(code, nextSequence);
            campaignNeighbourTotal += EqualPositions(code, nextCampaign);
        }

        // Random expectation: 10/251 ≈ 0.04 equal positions per pair, ≈ 0.004 per position.
        double seqAverage = (double)seqNeighbourTotal / pairs;
        double campaignAverage = (double)campaignNeighbourTotal / pairs;
        Assert.InRange(seqAverage, 0.0, 0.08);
        Assert.InRange(campaignAverage, 0.0, 0.08);
        Assert.All(perPosition, matches => Assert.InRange(matches / (double)pairs, 0.0, 0.012));
    }

    [Fact]
    public void ConsecutiveCodesSpreadOverTheWholeAlphabetAtEveryPosition()
    {
        var seen = new HashSet<char>[CouponCodeCodec.Length];
        for (int p = 0; p < seen.Length; p++)
        {
            seen[p] = [];
        }

        for (long seq = 1; seq <= 20_000; seq++)
        {
            string code = CodecA.Encode(42, seq);
            for (int p = 0; p < code.Length; p++)
            {
                seen[p].Add(code[p]);
            }
        }

        // 20,000 draws from 251 symbols leave none out in practice; a fixed or skewed position would.
        Assert.All(seen, symbols => Assert.Equal(Radix, symbols.Count));
    }

    // ---------- Normalization and odd input ----------

    [Fact]
    public void NormalizeDropsSeparatorsHumansType()
    {
        foreach (string code in SampleCodes(50))
        {
            string[] variants =
            [
                $"{code[..3]} {code[3..6]} {code[6..]}",
                $"{code[..5]}-{code[5..]}",
                $" {code[..2]}\u00A0{code[2..4]}\t{code[4..]}\r\n",
                $"{code[..5]}\u2013{code[5..]}\u3000",
                string.Join('-', code.ToCharArray()),
            ];

            foreach (string variant in variants)
            {
                Assert.True(CouponCodeCodec.TryNormalize(variant, out string normalized), variant);
                Assert.Equal(code, normalized);
                Assert.True(CouponCodeCodec.HasValidCheck(variant), variant);
                Assert.True(CodecA.TryDecode(variant, out long c, out long s), variant);
                Assert.True(CodecA.TryDecode(code, out long c2, out long s2));
                Assert.Equal((c2, s2), (c, s));
            }
        }
    }

    [Fact]
    public void NormalizeCanonicalInputIsReturnedAsIs()
    {
        string code = CodecA.Encode(3, 4);
        Assert.True(CouponCodeCodec.TryNormalize(code, out string normalized));
        Assert.Same(code, normalized);
    }

    [Fact]
    public void NormalizeComposesDecomposedHangul()
    {
        foreach (string code in SampleCodes(50))
        {
            string decomposed = Decompose(code);
            Assert.NotEqual(code.Length, decomposed.Length);

            Assert.True(CouponCodeCodec.TryNormalize(decomposed, out string normalized), decomposed);
            Assert.Equal(code, normalized);
            Assert.True(CouponCodeCodec.HasValidCheck(decomposed));
            Assert.True(CodecA.TryDecode(decomposed, out _, out _));

            // With separators between the jamo of a syllable and between syllables.
            string spaced = string.Join(' ', decomposed.ToCharArray());
            Assert.InRange(spaced.Length, 11, 64);
            Assert.True(CouponCodeCodec.TryNormalize(spaced, out normalized), spaced);
            Assert.Equal(code, normalized);
        }
    }

    [Fact]
    public void NormalizeAgreesWithBclNfc()
    {
        if (!BclNormalizationAvailable())
        {
            Assert.Skip("string.Normalize is unavailable (globalization-invariant mode without ICU).");
        }

        var random = new Random(6);
        int accepted = 0;
        foreach (string code in SampleCodes(300))
        {
            // Decompose a random subset of syllables, the way some IMEs and macOS file names do.
            var builder = new StringBuilder();
            foreach (char ch in code)
            {
                builder.Append(random.Next(2) == 0 ? ch.ToString() : ch.ToString().Normalize(NormalizationForm.FormD));
            }

            string input = builder.ToString();
            Assert.True(CouponCodeCodec.TryNormalize(input, out string normalized), input);
            Assert.Equal(input.Normalize(NormalizationForm.FormC), normalized);
            accepted++;
        }

        // Random jamo soup: whenever NFC yields ten alphabet symbols, the codec must agree, and vice versa.
        bool[] inAlphabet = AlphabetMask();
        for (int i = 0; i < 50_000; i++)
        {
            var builder = new StringBuilder();
            int units = random.Next(10, 31);
            for (int u = 0; u < units; u++)
            {
                builder.Append(random.Next(5) switch
                {
                    0 => (char)(0x1100 + random.Next(0x13)),
                    1 => (char)(0x1161 + random.Next(0x15)),
                    2 => (char)(0x11A8 + random.Next(0x1B)),
                    3 => (char)('0' + random.Next(10)),
                    _ => CouponCodeCodec.Alphabet[random.Next(10, Radix)],
                });
            }

            string input = builder.ToString();
            string nfc = input.Normalize(NormalizationForm.FormC);
            bool expected = nfc.Length == CouponCodeCodec.Length && nfc.All(ch => inAlphabet[ch]);
            Assert.Equal(expected, CouponCodeCodec.TryNormalize(input, out string normalized));
            if (expected)
            {
                Assert.Equal(nfc, normalized);
                accepted++;
            }
        }

        Assert.True(accepted > 300);
    }

    [Fact]
    public void NormalizeMapsFullwidthDigits()
    {
        string code = SampleCodes(500).First(c => c.Count(char.IsAsciiDigit) >= 2);
        string fullwidth = new(code.Select(ch => char.IsAsciiDigit(ch) ? (char)(ch - '0' + '\uFF10') : ch).ToArray());
        Assert.NotEqual(code, fullwidth);

        Assert.True(CouponCodeCodec.TryNormalize(fullwidth, out string normalized));
        Assert.Equal(code, normalized);
        Assert.True(CouponCodeCodec.HasValidCheck(fullwidth));
        Assert.True(CodecA.TryDecode(fullwidth, out _, out _));
    }

    [Fact]
    public void OddInputIsRejectedWithoutThrowing()
    {
        string code = CodecA.Encode(9, 10);
        string?[] inputs =
        [
            null,
            string.Empty,
            " ",
            "\t\r\n",
            "0",
            code[..9],
            code + "0",
            code + code,
            code + new string(' ', 55), // would normalize fine, but too long to look at
            new string('0', 100_000),
            code[..9] + "😀",
            "😀" + code[1..],
            code[..5] + "😀" + code[5..],
            code[..9] + "\uD83D", // lone high surrogate
            "\uDE00" + code[1..], // lone low surrogate
            code[..4] + "\uDE00\uD83D" + code[6..], // reversed pair
            code[..9] + "뷁",
            code[..9] + "A",
            code[..9] + "ㄱ", // compatibility jamo: not composed by NFC
            code[..9] + "\u1100", // initial consonant with no vowel
            code[..9] + "\u1161", // vowel with nothing before it
            "\u11AB" + code[1..], // final consonant with nothing before it
            code[..9] + "\u1113", // archaic jamo
            code[..9] + "\u0301", // combining accent
            code[..9] + "\u0663", // Arabic-Indic digit three
            code[..9] + "\u00B3", // superscript three
            code[..9] + "\0",
            code[..5] + "." + code[5..],
            "\uFFFF\uFFFE\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD",
        ];

        for (int i = 0; i < inputs.Length; i++)
        {
            string? input = inputs[i];
            Assert.False(CouponCodeCodec.TryNormalize(input, out string normalized), $"case {i}");
            Assert.Equal(string.Empty, normalized);
            Assert.False(CouponCodeCodec.HasValidCheck(input), $"case {i}");
            Assert.False(CodecA.TryDecode(input, out long campaign, out long sequence), $"case {i}");
            Assert.Equal((0L, 0L), (campaign, sequence));
        }
    }

    [Fact]
    public void OddInputRandomFuzzNeverThrowsAndStaysConsistent()
    {
        char[] pool =
        [
            '0', '7', '\uFF15', ' ', '-', '\u00A0', '\t', '\u200B', '\uD83D', '\uDE00', '\uDC00', '\uDBFF',
            '\u1100', '\u1161', '\u11AB', '\u11C2', '\u1113', '\u0301', '\u3131', 'A', '\0', '\uFFFF',
            '가', '간', '갈', '힐', '뷁', '각', '\uAC00', '\uD7A3', '\u2013', '\u3000',
        ];
        string alphabet = CouponCodeCodec.Alphabet;
        var random = new Random(7);
        bool[] inAlphabet = AlphabetMask();

        for (int i = 0; i < 200_000; i++)
        {
            int length = random.Next(0, 80);
            char[] chars = new char[length];
            for (int c = 0; c < length; c++)
            {
                chars[c] = random.Next(4) switch
                {
                    0 => pool[random.Next(pool.Length)],
                    1 => (char)random.Next(0x10000),
                    _ => alphabet[random.Next(alphabet.Length)],
                };
            }

            string input = new(chars);
            bool normalizedOk = CouponCodeCodec.TryNormalize(input, out string normalized);
            bool checkOk = CouponCodeCodec.HasValidCheck(input);
            bool decodeOk = CodecA.TryDecode(input, out long campaign, out long sequence);

            if (normalizedOk)
            {
                Assert.Equal(CouponCodeCodec.Length, normalized.Length);
                Assert.All(normalized, ch => Assert.True(inAlphabet[ch]));
                Assert.Equal(CouponCodeCodec.HasValidCheck(normalized), checkOk);
            }
            else
            {
                Assert.False(checkOk);
            }

            if (decodeOk)
            {
                Assert.True(checkOk);
                Assert.Equal(normalized, CodecA.Encode(campaign, sequence));
            }
        }
    }

    [Fact]
    public void ValidCheckAloneIsNotEnoughToDecode()
    {
        // 251^9 / 2^64 ≈ 218: most well-formed strings with a correct check do not fit 64 bits.
        var random = new Random(8);
        int decoded = 0;
        const int trials = 20_000;
        for (int i = 0; i < trials; i++)
        {
            string candidate = ModelWrite(RandomBelow(random, BigPow(9)));
            Assert.True(CouponCodeCodec.HasValidCheck(candidate));
            if (CodecA.TryDecode(candidate, out long c, out long s))
            {
                Assert.Equal(candidate, CodecA.Encode(c, s));
                decoded++;
            }
        }

        Assert.InRange(decoded, 30, 200); // expected ≈ 92
    }

    // ---------- Key fingerprint ----------

    [Fact]
    public void KeyFingerprintStableForSameKeyAndDifferentForOthers()
    {
        byte[] keyC = (byte[])KeyA.Clone();
        keyC[^1] ^= 0x80;

        Assert.Equal(CodecA.KeyFingerprint, new CouponCodeCodec(KeyA).KeyFingerprint);
        Assert.NotEqual(CodecA.KeyFingerprint, CodecB.KeyFingerprint);
        Assert.NotEqual(CodecA.KeyFingerprint, new CouponCodeCodec(keyC).KeyFingerprint);
        Assert.Matches("^[0-9a-f]{16}$", CodecA.KeyFingerprint);

        byte[] mac = HMACSHA256.HashData(KeyA, "couponlive-code-key-fingerprint"u8);
        Assert.Equal(Convert.ToHexString(mac, 0, 8).ToLowerInvariant(), CodecA.KeyFingerprint);
    }

    // ---------- Threads and cost ----------

    [Fact]
    public void CodecIsSafeToShareAcrossThreads()
    {
        const int count = 100_000;
        string[] sequential = new string[count];
        for (int i = 0; i < count; i++)
        {
            sequential[i] = CodecA.Encode(1 + (i % 13), 1 + i);
        }

        string[] parallel = new string[count];
        Parallel.For(0, count, i =>
        {
            parallel[i] = CodecA.Encode(1 + (i % 13), 1 + i);
            if (!CodecA.TryDecode(parallel[i], out long c, out long s) || c != 1 + (i % 13) || s != 1 + i)
            {
                throw new InvalidOperationException($"bad round trip at {i}");
            }
        });

        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void EncodeAndDecodeAllocateOnlyTheResultString()
    {
        string code = CodecA.Encode(77, 88);
        string spaced = $"{code[..5]} {code[5..]}";
        const int iterations = 10_000;

        // Warm up (JIT, static tables).
        for (int i = 0; i < 100; i++)
        {
            CodecA.TryDecode(code, out _, out _);
            CodecA.TryDecode(spaced, out _, out _);
            CouponCodeCodec.HasValidCheck(spaced);
            CouponCodeCodec.TryNormalize(code, out _);
            CodecA.Encode(77, 88 + i);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            CodecA.TryDecode(code, out _, out _);
            CodecA.TryDecode(spaced, out _, out _);
            CouponCodeCodec.HasValidCheck(spaced);
            CouponCodeCodec.TryNormalize(code, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            CodecA.Encode(77, 1 + i);
        }

        long perEncode = (GC.GetAllocatedBytesForCurrentThread() - before) / iterations;
        Assert.InRange(perEncode, 1, 48); // one 10-char string: 16 header + 4 length + 22 chars, rounded to 48
    }

    // ---------- Helpers: an independent model of the design ----------

    private static string ModelEncode(byte[] key, long campaign, long sequence) =>
        ModelWrite(ModelPermute(key, ((ulong)campaign << 32) | (ulong)sequence));

    private static ulong ModelPermute(byte[] key, ulong n)
    {
        byte[] digest = SHA256.HashData(key);
        ulong k0 = BinaryPrimitives.ReadUInt64LittleEndian(digest);
        ulong k1 = BinaryPrimitives.ReadUInt64LittleEndian(digest.AsSpan(8));
        uint left = (uint)(n >> 32), right = (uint)n;
        byte[] message = new byte[8];
        for (uint round = 0; round < 8; round++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(message, round);
            BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(4), right);
            uint f = (uint)SipHash24.Hash(k0, k1, message);
            (left, right) = (right, left ^ f);
        }

        return ((ulong)left << 32) | right;
    }

    // 9 base-251 digits, most significant first; the leading digit is whitened by adding the
    // other eight (mod 251); then the check symbol, found by search rather than by formula.
    private static string ModelWrite(UInt128 value)
    {
        int[] digits = new int[9];
        for (int i = 8; i >= 0; i--)
        {
            digits[i] = (int)(value % Radix);
            value /= Radix;
        }

        Assert.Equal(UInt128.Zero, value);
        int[] symbols = new int[10];
        Array.Copy(digits, symbols, 9);
        symbols[0] = digits.Sum() % Radix;

        int partial = 0;
        for (int i = 0; i < 9; i++)
        {
            partial += (i + 1) * symbols[i];
        }

        symbols[9] = Enumerable.Range(0, Radix).Single(c => (partial + (10 * c)) % Radix == 0);
        return new string(symbols.Select(s => CouponCodeCodec.Alphabet[s]).ToArray());
    }

    private static UInt128 BigPow(int exponent)
    {
        UInt128 result = 1;
        for (int i = 0; i < exponent; i++)
        {
            result *= Radix;
        }

        return result;
    }

    private static UInt128 RandomBelow(Random random, UInt128 bound)
    {
        UInt128 raw = new(NextUInt64(random), NextUInt64(random));
        return raw % bound;
    }

    private static string Decompose(string code)
    {
        var builder = new StringBuilder();
        foreach (char ch in code)
        {
            if (ch is >= '\uAC00' and <= '\uD7A3')
            {
                int index = ch - 0xAC00;
                builder.Append((char)(0x1100 + (index / 588)));
                builder.Append((char)(0x1161 + (index % 588 / 28)));
                if (index % 28 != 0)
                {
                    builder.Append((char)(0x11A7 + (index % 28)));
                }
            }
            else
            {
                builder.Append(ch);
            }
        }

        return builder.ToString();
    }

    private static bool BclNormalizationAvailable()
    {
        try
        {
            return "\u1100\u1161".Normalize(NormalizationForm.FormC) == "가";
        }
        catch (PlatformNotSupportedException)
        {
            return false;
        }
    }

    private static IEnumerable<string> SampleCodes(int count)
    {
        yield return CodecA.Encode(1, 1);
        yield return CodecA.Encode(uint.MaxValue, uint.MaxValue);
        var random = new Random(count);
        for (int i = 2; i < count; i++)
        {
            yield return CodecA.Encode(NextInRange(random), NextInRange(random));
        }
    }

    private static int SymbolOf(char ch)
    {
        int index = CouponCodeCodec.Alphabet.IndexOf(ch, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{ch}' is not in the alphabet");
        return index;
    }

    private static bool[] AlphabetMask()
    {
        bool[] mask = new bool[char.MaxValue + 1];
        foreach (char ch in CouponCodeCodec.Alphabet)
        {
            mask[ch] = true;
        }

        return mask;
    }

    private static int EqualPositions(string a, string b)
    {
        int equal = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i])
            {
                equal++;
            }
        }

        return equal;
    }

    private static long NextInRange(Random random) => 1 + random.NextInt64(uint.MaxValue);

    private static ulong NextUInt64(Random random) => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
}
