// Order-preserving key encodings: comparing encoded keys bytewise (RocksDB's default comparator) orders
// them as the values they encode. These encodings are part of the on-disk format.
#ifndef EMBER_STORAGE_KEY_ENCODING_H_
#define EMBER_STORAGE_KEY_ENCODING_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ember::storage {

// Big-endian.
void AppendUint32(std::string* out, uint32_t value);
void AppendUint64(std::string* out, uint64_t value);
// Sign bit flipped, then big-endian: negative values sort before positive ones.
void AppendInt64(std::string* out, int64_t value);
// IEEE-754 bits, all bits flipped for negatives and the sign bit flipped for positives; -0.0 is encoded
// as +0.0 and NaN is rejected by callers before it gets here.
void AppendDouble(std::string* out, double value);
// Bytes with 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01, so that a string followed by more key
// parts sorts as the string alone would.
void AppendOrderedString(std::string* out, std::string_view value);

// Each Consume* reads one value from the front of `*in`, advances it, and returns false (leaving `*in`
// unspecified) when the input is too short or malformed.
bool ConsumeUint32(std::string_view* in, uint32_t* value);
bool ConsumeUint64(std::string_view* in, uint64_t* value);
bool ConsumeInt64(std::string_view* in, int64_t* value);
bool ConsumeDouble(std::string_view* in, double* value);
bool ConsumeOrderedString(std::string_view* in, std::string* value);

// The smallest key greater than every key starting with `prefix` (for range scans and DeleteRange);
// empty when no such key exists (prefix all 0xFF).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace ember::storage

#endif  // EMBER_STORAGE_KEY_ENCODING_H_
