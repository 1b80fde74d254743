#include "embed/content_hash.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "absl/strings/str_format.h"

namespace ember::embed {
namespace {

constexpr uint64_t kMultiplier1 = 0x87C37B91114253D5ULL;
constexpr uint64_t kMultiplier2 = 0x4CF5AD432745937FULL;

uint64_t RotateLeft(uint64_t x, int bits) { return (x << bits) | (x >> (64 - bits)); }

// MurmurHash3's finalizer: every input bit affects every output bit.
uint64_t Avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t LoadLittleEndian64(const unsigned char* bytes) {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof(word));
  return word;  // Ember targets little-endian machines only (x86-64, AArch64)
}

// Slicing-by-8 tables for the reflected polynomial 0xEDB88320: eight bytes per step.
using Crc32Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Crc32Tables MakeCrc32Tables() {
  Crc32Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0xEDB88320u : 0u);
    tables[0][byte] = crc;
  }
  for (uint32_t byte = 0; byte < 256; ++byte) {
    for (int slice = 1; slice < 8; ++slice) {
      const uint32_t previous = tables[slice - 1][byte];
      tables[slice][byte] = (previous >> 8) ^ tables[0][previous & 0xFF];
    }
  }
  return tables;
}

constexpr Crc32Tables kCrc32Tables = MakeCrc32Tables();

}  // namespace

void ContentHasher::MixWord(uint64_t word) {
  state_ ^= word * kMultiplier1;
  state_ = RotateLeft(state_, 31) * kMultiplier2 + 0x52DCE729;
}

void ContentHasher::Update(const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  length_ += size;
  if (pending_size_ > 0) {
    const size_t take = std::min(size, sizeof(pending_) - pending_size_);
    std::memcpy(pending_ + pending_size_, bytes, take);
    pending_size_ += take;
    bytes += take;
    size -= take;
    if (pending_size_ < sizeof(pending_)) return;
    MixWord(LoadLittleEndian64(pending_));
    pending_size_ = 0;
  }
  for (; size >= 8; bytes += 8, size -= 8) MixWord(LoadLittleEndian64(bytes));
  std::memcpy(pending_, bytes, size);
  pending_size_ = size;
}

uint64_t ContentHasher::Digest() const {
  uint64_t state = state_;
  if (pending_size_ > 0) {
    unsigned char tail[8] = {};
    std::memcpy(tail, pending_, pending_size_);
    state ^= LoadLittleEndian64(tail) * kMultiplier1;
    state = RotateLeft(state, 31) * kMultiplier2;
  }
  return Avalanche(state ^ length_);
}

std::string ContentHasher::HexDigest() const { return absl::StrFormat("%016x", Digest()); }

uint32_t Crc32(const void* data, size_t size, uint32_t crc) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  const auto& t = kCrc32Tables;
  crc = ~crc;
  for (; size >= 8; bytes += 8, size -= 8) {
    const uint32_t low =
        crc ^ (static_cast<uint32_t>(bytes[0]) | static_cast<uint32_t>(bytes[1]) << 8 |
               static_cast<uint32_t>(bytes[2]) << 16 | static_cast<uint32_t>(bytes[3]) << 24);
    crc = t[7][low & 0xFF] ^ t[6][(low >> 8) & 0xFF] ^ t[5][(low >> 16) & 0xFF] ^ t[4][low >> 24] ^
          t[3][bytes[4]] ^ t[2][bytes[5]] ^ t[1][bytes[6]] ^ t[0][bytes[7]];
  }
  for (; size > 0; ++bytes, --size) crc = (crc >> 8) ^ t[0][(crc ^ *bytes) & 0xFF];
  return ~crc;
}

}  // namespace ember::embed
