#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/key_encoding.h"

namespace ember::storage {
namespace {

// Bytewise comparison as RocksDB's default comparator does it (unsigned bytes).
int CompareBytes(std::string_view a, std::string_view b) { return a.compare(b); }

int Sign(int x) { return (x > 0) - (x < 0); }

template <typename T>
int CompareValues(const T& a, const T& b) {
  return (a > b) - (a < b);
}

std::string EncodeInt64(int64_t v) {
  std::string out;
  AppendInt64(&out, v);
  return out;
}
std::string EncodeUint64(uint64_t v) {
  std::string out;
  AppendUint64(&out, v);
  return out;
}
std::string EncodeUint32(uint32_t v) {
  std::string out;
  AppendUint32(&out, v);
  return out;
}
std::string EncodeDouble(double v) {
  std::string out;
  AppendDouble(&out, v);
  return out;
}
std::string EncodeString(std::string_view v) {
  std::string out;
  AppendOrderedString(&out, v);
  return out;
}

// Checks that for every pair, bytewise order of encodings equals value order.
template <typename T, typename Encode>
void ExpectOrderPreserved(const std::vector<T>& values, Encode encode) {
  std::vector<std::string> encoded;
  for (const T& v : values) encoded.push_back(encode(v));
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values.size(); ++j) {
      ASSERT_EQ(Sign(CompareBytes(encoded[i], encoded[j])), CompareValues(values[i], values[j]))
          << "values #" << i << " and #" << j;
    }
  }
}

TEST(KeyEncodingTest, Uint32IsBigEndian) {
  EXPECT_EQ(EncodeUint32(0x01020304u), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(EncodeUint64(0x0102030405060708u), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(KeyEncodingTest, Int64KnownEncodings) {
  EXPECT_EQ(EncodeInt64(0), std::string("\x80\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(EncodeInt64(-1), std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8));
  EXPECT_EQ(EncodeInt64(std::numeric_limits<int64_t>::min()), std::string(8, '\0'));
  EXPECT_EQ(EncodeInt64(std::numeric_limits<int64_t>::max()), std::string(8, '\xff'));
}

TEST(KeyEncodingTest, IntegerOrderAndRoundTrip) {
  std::mt19937_64 rng(42);
  std::vector<int64_t> signed_values = {std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::min() + 1,
                                        -256,
                                        -255,
                                        -1,
                                        0,
                                        1,
                                        255,
                                        256,
                                        std::numeric_limits<int64_t>::max() - 1,
                                        std::numeric_limits<int64_t>::max()};
  std::vector<uint64_t> unsigned_values = {0, 1, 255, 256, std::numeric_limits<uint64_t>::max()};
  std::vector<uint32_t> u32_values = {0, 1, 255, 256, std::numeric_limits<uint32_t>::max()};
  for (int i = 0; i < 300; ++i) {
    const uint64_t r = rng();
    signed_values.push_back(static_cast<int64_t>(r));
    signed_values.push_back(static_cast<int64_t>(r) >> (r % 64));  // small magnitudes too
    unsigned_values.push_back(r >> (r % 64));
    u32_values.push_back(static_cast<uint32_t>(r >> (r % 64)));
  }
  ExpectOrderPreserved(signed_values, EncodeInt64);
  ExpectOrderPreserved(unsigned_values, EncodeUint64);
  ExpectOrderPreserved(u32_values, EncodeUint32);

  for (int64_t v : signed_values) {
    const std::string encoded = EncodeInt64(v);
    std::string_view in = encoded;
    int64_t decoded = 0;
    ASSERT_TRUE(ConsumeInt64(&in, &decoded));
    EXPECT_EQ(decoded, v);
    EXPECT_TRUE(in.empty());
  }
  for (uint64_t v : unsigned_values) {
    const std::string encoded = EncodeUint64(v);
    std::string_view in = encoded;
    uint64_t decoded = 0;
    ASSERT_TRUE(ConsumeUint64(&in, &decoded));
    EXPECT_EQ(decoded, v);
    EXPECT_TRUE(in.empty());
  }
  for (uint32_t v : u32_values) {
    const std::string encoded = EncodeUint32(v);
    std::string_view in = encoded;
    uint32_t decoded = 0;
    ASSERT_TRUE(ConsumeUint32(&in, &decoded));
    EXPECT_EQ(decoded, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(KeyEncodingTest, DoubleOrderAndRoundTrip) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double kDenormMin = std::numeric_limits<double>::denorm_min();
  const double kMin = std::numeric_limits<double>::min();
  const double kMax = std::numeric_limits<double>::max();
  std::vector<double> values = {-kInf,
                                -kMax,
                                -1e300,
                                -1.5,
                                -1.0,
                                -kMin,
                                -kMin / 2,
                                -kDenormMin,
                                -0.0,
                                0.0,
                                kDenormMin,
                                2 * kDenormMin,
                                kMin / 2,
                                kMin,
                                std::nextafter(1.0, 0.0),
                                1.0,
                                std::nextafter(1.0, 2.0),
                                1e300,
                                kMax,
                                kInf};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    double d;
    do {
      const uint64_t bits = rng();
      std::memcpy(&d, &bits, sizeof d);
    } while (std::isnan(d));
    values.push_back(d);
    values.push_back(std::uniform_real_distribution<double>(-10, 10)(rng));
  }
  ExpectOrderPreserved(values, EncodeDouble);

  for (double v : values) {
    const std::string encoded = EncodeDouble(v);
    ASSERT_EQ(encoded.size(), 8u);
    std::string_view in = encoded;
    double decoded = 1;
    ASSERT_TRUE(ConsumeDouble(&in, &decoded)) << v;
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(decoded, v);
    if (v == 0) {
      EXPECT_FALSE(std::signbit(decoded)) << "-0.0 decodes as +0.0";
    }
  }
}

TEST(KeyEncodingTest, NegativeZeroEncodesAsPositiveZero) {
  EXPECT_EQ(EncodeDouble(-0.0), EncodeDouble(0.0));
}

TEST(KeyEncodingTest, ConsumeDoubleRejectsNaNAndNegativeZeroPatterns) {
  // The bytes AppendDouble would produce for a NaN or for -0.0 if it did not normalize them.
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), -0.0}) {
    uint64_t bits;
    std::memcpy(&bits, &bad, sizeof bits);
    bits = (bits >> 63) != 0 ? ~bits : bits ^ (uint64_t{1} << 63);
    std::string encoded;
    AppendUint64(&encoded, bits);
    std::string_view in = encoded;
    double decoded;
    EXPECT_FALSE(ConsumeDouble(&in, &decoded)) << bad;
  }
}

std::vector<std::string> InterestingStrings() {
  using std::string_literals::operator""s;
  std::vector<std::string> values = {""s,     "\0"s,    "\0\0"s,     "\0\x01"s, "\0\xff"s,
                                     "\x01"s, "\xff"s,  "\xff\xff"s, "\xff\0"s, "a"s,
                                     "a\0"s,  "a\0\0"s, "a\0b"s,     "a\x01"s,  "a\xff"s,
                                     "ab"s,   "abc"s,   "b"s,        "\0a"s,    "a\0\xff"s};
  std::mt19937 rng(3);
  const char alphabet[] = {'\0', '\x01', 'a', 'b', '\xfe', '\xff'};
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 6, ' ');
    for (char& c : s) c = alphabet[rng() % sizeof alphabet];
    values.push_back(s);
  }
  return values;
}

TEST(KeyEncodingTest, StringOrderAndRoundTrip) {
  const std::vector<std::string> values = InterestingStrings();
  // std::string compares char as unsigned through char_traits<char>::compare (memcmp semantics).
  ExpectOrderPreserved(values, EncodeString);
  for (const std::string& v : values) {
    const std::string encoded = EncodeString(v);
    std::string_view in = encoded;
    std::string decoded = "junk";
    ASSERT_TRUE(ConsumeOrderedString(&in, &decoded));
    EXPECT_EQ(decoded, v);
    EXPECT_TRUE(in.empty());
  }
}

// (string, int64) composite keys order lexicographically by (string, then integer), even when one
// string is a prefix of the other and the following part's bytes would otherwise interfere.
TEST(KeyEncodingTest, CompositeKeysOrderByFirstPartThenSecond) {
  const std::vector<std::string> strings = InterestingStrings();
  const std::vector<int64_t> numbers = {std::numeric_limits<int64_t>::min(), -1, 0, 1,
                                        std::numeric_limits<int64_t>::max()};
  std::vector<std::pair<std::string, int64_t>> values;
  for (size_t i = 0; i < strings.size(); i += 3) {
    for (int64_t n : numbers) values.emplace_back(strings[i], n);
  }
  ExpectOrderPreserved(values, [](const std::pair<std::string, int64_t>& v) {
    std::string out;
    AppendOrderedString(&out, v.first);
    AppendInt64(&out, v.second);
    return out;
  });
  for (const auto& [s, n] : values) {
    std::string encoded;
    AppendUint32(&encoded, 7);
    AppendOrderedString(&encoded, s);
    AppendInt64(&encoded, n);
    std::string_view in = encoded;
    uint32_t prefix;
    std::string decoded_s;
    int64_t decoded_n;
    ASSERT_TRUE(ConsumeUint32(&in, &prefix));
    ASSERT_TRUE(ConsumeOrderedString(&in, &decoded_s));
    ASSERT_TRUE(ConsumeInt64(&in, &decoded_n));
    EXPECT_EQ(prefix, 7u);
    EXPECT_EQ(decoded_s, s);
    EXPECT_EQ(decoded_n, n);
    EXPECT_TRUE(in.empty());
  }
}

// Runs `consume` on a copy of `truncated` in a heap block of exactly its size (so that
// AddressSanitizer catches a read past it), preceded in memory by nothing else it could
// legitimately read.
template <typename Consume>
bool ConsumeExactCopy(std::string_view truncated, Consume consume) {
  auto buffer =
      std::make_unique<char[]>(truncated.size() + 1);  // +1: make_unique<char[]>(0) is fine too
  std::memcpy(buffer.get(), truncated.data(), truncated.size());
  std::string_view in(buffer.get(), truncated.size());
  return consume(&in);
}

TEST(KeyEncodingTest, ConsumeRejectsTruncatedInput) {
  using std::string_literals::operator""s;
  // Each encoding is followed by bytes that would complete it, so reading past the view's end would
  // make Consume* succeed.
  const std::string fixed = EncodeUint64(0x0102030405060708);
  for (size_t n = 0; n < 8; ++n) {
    const std::string_view truncated(fixed.data(), n);
    uint64_t u64;
    int64_t i64;
    double d;
    uint32_t u32;
    EXPECT_FALSE(ConsumeExactCopy(truncated, [&](std::string_view* in) {
      return ConsumeUint64(in, &u64);
    })) << n;
    EXPECT_FALSE(ConsumeExactCopy(truncated, [&](std::string_view* in) {
      return ConsumeInt64(in, &i64);
    })) << n;
    EXPECT_FALSE(ConsumeExactCopy(truncated, [&](std::string_view* in) {
      return ConsumeDouble(in, &d);
    })) << n;
    std::string_view in_place =
        truncated;  // the bytes after it in `fixed` are readable but not ours
    EXPECT_FALSE(ConsumeUint64(&in_place, &u64)) << n;
    if (n < 4) {
      EXPECT_FALSE(ConsumeExactCopy(truncated, [&](std::string_view* in) {
        return ConsumeUint32(in, &u32);
      })) << n;
    }
  }
  for (const std::string& value : {"a\0b"s, ""s, "\0"s, "abc"s}) {
    const std::string encoded = EncodeString(value);
    for (size_t n = 0; n < encoded.size(); ++n) {
      const std::string_view truncated(encoded.data(), n);
      std::string decoded;
      EXPECT_FALSE(ConsumeExactCopy(truncated, [&](std::string_view* in) {
        return ConsumeOrderedString(in, &decoded);
      })) << n;
      std::string_view in_place = truncated;
      EXPECT_FALSE(ConsumeOrderedString(&in_place, &decoded)) << n;
    }
  }
}

TEST(KeyEncodingTest, ConsumeOrderedStringRejectsBadEscape) {
  using std::string_literals::operator""s;
  for (const std::string& bad : {"a\0\x02"s, "\0\0"s, "\0a\0\x01"s}) {
    std::string_view in = bad;
    std::string decoded;
    EXPECT_FALSE(ConsumeOrderedString(&in, &decoded)) << ::testing::PrintToString(bad);
  }
}

TEST(KeyEncodingTest, ConsumeLeavesFollowingBytes) {
  std::string encoded = EncodeString("key");
  encoded += "rest";
  std::string_view in = encoded;
  std::string decoded;
  ASSERT_TRUE(ConsumeOrderedString(&in, &decoded));
  EXPECT_EQ(decoded, "key");
  EXPECT_EQ(in, "rest");
}

TEST(KeyEncodingTest, PrefixSuccessor) {
  using std::string_literals::operator""s;
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor("a\xff"s), "b");
  EXPECT_EQ(PrefixSuccessor("a\xff\xff"s), "b");
  EXPECT_EQ(PrefixSuccessor("a\xfe"s), "a\xff"s);
  EXPECT_EQ(PrefixSuccessor("\0"s), "\x01"s);
  EXPECT_EQ(PrefixSuccessor("\xff\xff"s), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
}

TEST(KeyEncodingTest, PrefixSuccessorBoundsEveryExtensionOfThePrefix) {
  const std::vector<std::string> strings = InterestingStrings();
  for (const std::string& prefix : strings) {
    const std::string successor = PrefixSuccessor(prefix);
    if (successor.empty()) continue;
    EXPECT_LT(prefix, successor);
    for (const std::string& other : strings) {
      const bool has_prefix = other.compare(0, prefix.size(), prefix) == 0;
      if (has_prefix) {
        EXPECT_LT(other + "\xff\xff", successor);
      } else if (other > prefix) {
        EXPECT_GE(other, successor)
            << ::testing::PrintToString(prefix) << " " << ::testing::PrintToString(other);
      }
    }
  }
}

}  // namespace
}  // namespace ember::storage
