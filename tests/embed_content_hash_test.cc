// Tests for embed/content_hash.h: CRC-32 agrees with zlib's, and ContentHasher's digest depends on
// the bytes only, not on how they were fed, and is the same in every process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "embed/content_hash.h"

namespace ember::embed {
namespace {

TEST(ContentHashTest, Crc32IsTheZlibChecksum) {
  EXPECT_EQ(Crc32("123456789", 9), 0xCBF43926u);  // the standard check value
  EXPECT_EQ(Crc32("", 0), 0u);
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog", 43), 0x414FA339u);
  EXPECT_EQ(Crc32("6789", 4, Crc32("12345", 5)), 0xCBF43926u);  // continued
}

TEST(ContentHashTest, DigestIgnoresHowBytesAreSplit) {
  std::mt19937 random(3);
  std::string bytes(1000, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  ContentHasher whole;
  whole.Update(bytes);
  for (int trial = 0; trial < 20; ++trial) {
    ContentHasher pieces;
    for (size_t pos = 0; pos < bytes.size();) {
      const size_t size = std::min<size_t>(random() % 13, bytes.size() - pos);
      pieces.Update(bytes.data() + pos, size);
      pos += size;
    }
    EXPECT_EQ(pieces.Digest(), whole.Digest());
  }
}

TEST(ContentHashTest, DigestIsStableAndSensitive) {
  ContentHasher a;
  a.Update("hello world");
  // Fixed values: encoder fingerprints stored in databases depend on the digest never changing
  // between processes, machines or Ember versions.
  EXPECT_EQ(a.HexDigest(), "4b36377fca8c6190");
  EXPECT_EQ(ContentHasher().HexDigest(), "9ca066f1a4ab2eea");
  ContentHasher b;
  b.Update("hello worle");
  EXPECT_NE(a.Digest(), b.Digest());
  ContentHasher empty;
  ContentHasher zero_byte;
  zero_byte.Update(std::string(1, '\0'));
  EXPECT_NE(empty.Digest(), zero_byte.Digest());  // the length counts
  ContentHasher fields_ab_c;
  fields_ab_c.UpdateField("ab");
  fields_ab_c.UpdateField("c");
  ContentHasher fields_a_bc;
  fields_a_bc.UpdateField("a");
  fields_a_bc.UpdateField("bc");
  EXPECT_NE(fields_ab_c.Digest(), fields_a_bc.Digest());
}

}  // namespace
}  // namespace ember::embed
