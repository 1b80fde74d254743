#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "index/crc32c.h"

namespace ember::index {
namespace {

// Bit-at-a-time CRC-32C, straight from the definition.
uint32_t ReferenceCrc32c(const unsigned char* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
  }
  return ~crc;
}

TEST(Crc32cTest, CheckValue) {
  const std::string text = "123456789";
  EXPECT_EQ(Crc32c(text.data(), text.size()), 0xE3069283u);
}

TEST(Crc32cTest, Rfc3720Vectors) {
  std::vector<unsigned char> data(32, 0);
  EXPECT_EQ(Crc32c(data.data(), data.size()), 0x8A9136AAu);
  std::fill(data.begin(), data.end(), 0xFF);
  EXPECT_EQ(Crc32c(data.data(), data.size()), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) data[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(Crc32c(data.data(), data.size()), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) data[i] = static_cast<unsigned char>(31 - i);
  EXPECT_EQ(Crc32c(data.data(), data.size()), 0x113FDB5Cu);
}

TEST(Crc32cTest, EmptyIsZero) { EXPECT_EQ(Crc32c(nullptr, 0), 0u); }

TEST(Crc32cTest, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<unsigned char> data(300);
  for (auto& byte : data) byte = static_cast<unsigned char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t size = 0; offset + size <= data.size(); size += 13) {
      EXPECT_EQ(Crc32c(data.data() + offset, size), ReferenceCrc32c(data.data() + offset, size))
          << "offset " << offset << " size " << size;
    }
  }
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over.";
  const uint32_t whole = Crc32c(text.data(), text.size());
  for (size_t split = 0; split <= text.size(); ++split) {
    EXPECT_EQ(Crc32cExtend(Crc32c(text.data(), split), text.data() + split, text.size() - split),
              whole);
  }
}

TEST(Crc32cTest, DetectsSingleBitFlips) {
  std::vector<unsigned char> data(64, 0x5A);
  const uint32_t original = Crc32c(data.data(), data.size());
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    EXPECT_NE(Crc32c(data.data(), data.size()), original);
    data[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace ember::index
