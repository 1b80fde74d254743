// SHA-256 (FIPS 180-4), to verify downloaded model files against the digests the Hugging Face hub
// publishes for large (LFS) files. Ember's own small implementation, so that embed/ needs no crypto
// library. Sha256 is a value type: not thread-safe, one per thread.
#ifndef EMBER_EMBED_SHA256_H_
#define EMBER_EMBED_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::embed {

// Hashes a byte stream; the digest depends only on the concatenated bytes, not on how they were
// split into Update calls.
class Sha256 {
 public:
  Sha256();

  void Update(const void* data, size_t size);
  void Update(std::string_view bytes) { Update(bytes.data(), bytes.size()); }

  // The 32-byte digest of everything given so far. Leaves the hasher unchanged, so Update may go
  // on.
  std::array<uint8_t, 32> Digest() const;
  // Digest() as 64 lower-case hex digits.
  std::string HexDigest() const;

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  uint64_t length_ = 0;  // bytes hashed so far
  uint8_t pending_[64] = {};
  size_t pending_size_ = 0;
};

// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view bytes);

}  // namespace ember::embed

#endif  // EMBER_EMBED_SHA256_H_
