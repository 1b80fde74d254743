#include "storage/key_encoding.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace ember::storage {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// Ordered-string escaping: 0x00 inside the value becomes kEscape + kEscapedZero; the value ends
// with kEscape + kTerminator. kTerminator < kEscapedZero < any byte that follows a shorter string's
// end, so a string sorts before every longer string it is a prefix of, whatever key parts follow
// it.
constexpr char kEscape = '\x00';
constexpr char kEscapedZero = '\xFF';
constexpr char kTerminator = '\x01';

template <typename T>
void AppendBigEndian(std::string* out, T value) {
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(static_cast<uint8_t>(value >> shift)));
  }
}

template <typename T>
bool ConsumeBigEndian(std::string_view* in, T* value) {
  if (in->size() < sizeof(T)) return false;
  T result = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    result = static_cast<T>((result << 8) | static_cast<uint8_t>((*in)[i]));
  }
  in->remove_prefix(sizeof(T));
  *value = result;
  return true;
}

}  // namespace

void AppendUint32(std::string* out, uint32_t value) { AppendBigEndian(out, value); }

void AppendUint64(std::string* out, uint64_t value) { AppendBigEndian(out, value); }

void AppendInt64(std::string* out, int64_t value) {
  AppendBigEndian(out, static_cast<uint64_t>(value) ^ kSignBit);
}

void AppendDouble(std::string* out, double value) {
  if (value == 0.0) value = 0.0;  // -0.0 == +0.0: both zeros share one encoding
  uint64_t bits = std::bit_cast<uint64_t>(value);
  bits = (bits & kSignBit) != 0 ? ~bits : bits ^ kSignBit;
  AppendBigEndian(out, bits);
}

void AppendOrderedString(std::string* out, std::string_view value) {
  for (char c : value) {
    out->push_back(c);
    if (c == kEscape) out->push_back(kEscapedZero);
  }
  out->push_back(kEscape);
  out->push_back(kTerminator);
}

bool ConsumeUint32(std::string_view* in, uint32_t* value) { return ConsumeBigEndian(in, value); }

bool ConsumeUint64(std::string_view* in, uint64_t* value) { return ConsumeBigEndian(in, value); }

bool ConsumeInt64(std::string_view* in, int64_t* value) {
  uint64_t bits;
  if (!ConsumeBigEndian(in, &bits)) return false;
  *value = static_cast<int64_t>(bits ^ kSignBit);
  return true;
}

bool ConsumeDouble(std::string_view* in, double* value) {
  uint64_t bits;
  if (!ConsumeBigEndian(in, &bits)) return false;
  bits = (bits & kSignBit) != 0 ? bits ^ kSignBit : ~bits;
  const double decoded = std::bit_cast<double>(bits);
  // AppendDouble never writes NaN or -0.0, so either one means the bytes are not an encoded double.
  if (std::isnan(decoded) || (decoded == 0.0 && std::signbit(decoded))) return false;
  *value = decoded;
  return true;
}

bool ConsumeOrderedString(std::string_view* in, std::string* value) {
  std::string result;
  for (size_t i = 0; i < in->size(); ++i) {
    const char c = (*in)[i];
    if (c != kEscape) {
      result.push_back(c);
      continue;
    }
    if (i + 1 == in->size()) return false;
    const char next = (*in)[++i];
    if (next == kTerminator) {
      in->remove_prefix(i + 1);
      *value = std::move(result);
      return true;
    }
    if (next != kEscapedZero) return false;
    result.push_back('\x00');
  }
  return false;  // no terminator
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string successor(prefix);
  while (!successor.empty()) {
    const auto last = static_cast<uint8_t>(successor.back());
    if (last != 0xFF) {
      successor.back() = static_cast<char>(last + 1);
      return successor;
    }
    successor.pop_back();
  }
  return successor;
}

}  // namespace ember::storage
