// Stable digests of model content, identical on every machine and run (unlike absl::Hash, which is
// seeded per process): a 64-bit streaming hash for encoder fingerprints, and CRC-32 for the
// checksums of the model files Ember writes. Neither is cryptographic: they detect accidental
// change (another model, a corrupt file), not tampering. ContentHasher is a value type (not
// thread-safe: one per thread); Crc32 is stateless.
#ifndef EMBER_EMBED_CONTENT_HASH_H_
#define EMBER_EMBED_CONTENT_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace ember::embed {

// Hashes a byte stream; the digest depends only on the concatenated bytes, not on how they were
// split into Update calls.
class ContentHasher {
 public:
  void Update(const void* data, size_t size);
  void Update(std::string_view bytes) { Update(bytes.data(), bytes.size()); }
  // Hashes the object representation of a number, in this machine's (little-endian) byte order.
  template <typename T>
  requires std::is_arithmetic_v<T>
  void UpdateValue(T value) { Update(&value, sizeof(value)); }
  // A length-prefixed string, so that ("ab", "c") and ("a", "bc") hash differently.
  void UpdateField(std::string_view bytes) {
    UpdateValue<uint64_t>(bytes.size());
    Update(bytes);
  }

  uint64_t Digest() const;
  // Digest() as 16 lower-case hex digits.
  std::string HexDigest() const;

 private:
  void MixWord(uint64_t word);

  uint64_t state_ = 0x9E3779B97F4A7C15ULL;
  uint64_t length_ = 0;
  unsigned char pending_[8] = {};
  size_t pending_size_ = 0;
};

// CRC-32 with the IEEE 802.3 / zlib polynomial, so that files written by other tools (Node's
// zlib.crc32, Python's zlib.crc32) verify. Continue a running checksum by passing the previous
// result as `crc`.
uint32_t Crc32(const void* data, size_t size, uint32_t crc = 0);

}  // namespace ember::embed

#endif  // EMBER_EMBED_CONTENT_HASH_H_
