// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum over Ember's index snapshots.
// Uses the SSE4.2 crc32 instruction when the build targets it, a byte table otherwise; both give
// the same values (crc32c("123456789") == 0xE3069283).
//
// Thread-safety: pure functions.
#ifndef EMBER_INDEX_CRC32C_H_
#define EMBER_INDEX_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ember::index {

// Extends `crc` (the CRC-32C of some prefix, 0 for none) with data[0..size):
// Crc32cExtend(Crc32c(a), b) equals the CRC-32C of a followed by b.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

// The CRC-32C of data[0..size).
inline uint32_t Crc32c(const void* data, size_t size) { return Crc32cExtend(0, data, size); }

}  // namespace ember::index

#endif  // EMBER_INDEX_CRC32C_H_
