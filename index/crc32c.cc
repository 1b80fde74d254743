#include "index/crc32c.h"

#include <array>
#include <cstring>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

namespace ember::index {
namespace {

#if !defined(__SSE4_2__)
constexpr uint32_t kPolynomial = 0x82F63B78u;

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = MakeTable();
#endif

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
#if defined(__SSE4_2__)
  // One dependent chain of 8-byte steps runs at several GB/s: enough for snapshots, whose load time
  // is dominated by copying the vectors anyway.
  uint64_t state64 = state;
  for (; size >= 8; size -= 8, bytes += 8) {
    uint64_t word;
    std::memcpy(&word, bytes, sizeof(word));
    state64 = _mm_crc32_u64(state64, word);
  }
  state = static_cast<uint32_t>(state64);
  for (; size > 0; --size, ++bytes) state = _mm_crc32_u8(state, *bytes);
#else
  for (; size > 0; --size, ++bytes) state = kTable[(state ^ *bytes) & 0xFF] ^ (state >> 8);
#endif
  return ~state;
}

}  // namespace ember::index
