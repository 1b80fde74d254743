#include "text/term_frequencies.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace ember::text {
namespace {

// Frozen: part of the stored format. A new layout gets a new byte; old ones stay decodable.
constexpr uint8_t kFormatV1 = 0x01;

// The smallest encoding of one term: shared-prefix varint, suffix-size varint, count varint.
constexpr size_t kMinEncodedTermBytes = 3;

void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

// Reads a varint of at most 64 bits at in[*pos]; false when truncated or overlong.
bool GetVarint(std::string_view in, size_t* pos, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= in.size()) return false;
    const uint8_t byte = static_cast<uint8_t>(in[(*pos)++]);
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

absl::Status Corrupt(size_t pos, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("corrupt term frequencies at byte ", pos, ": ", std::string(what)));
}

}  // namespace

TermFrequencies CountTerms(const std::vector<std::string>& tokens) {
  absl::flat_hash_map<std::string, uint32_t> counts;
  TermFrequencies result;
  for (const std::string& token : tokens) {
    if (token.empty() || token.size() > kMaxTermBytes) continue;
    ++counts[token];
    ++result.length;
  }
  result.terms.assign(counts.begin(), counts.end());
  std::sort(result.terms.begin(), result.terms.end());
  return result;
}

absl::Status ValidateTermFrequencies(const TermFrequencies& frequencies) {
  uint64_t sum = 0;
  for (size_t i = 0; i < frequencies.terms.size(); ++i) {
    const auto& [term, count] = frequencies.terms[i];
    if (term.empty()) return absl::InvalidArgumentError(absl::StrCat("term ", i, " is empty"));
    if (term.size() > kMaxTermBytes) {
      return absl::InvalidArgumentError(absl::StrCat("term '", term.substr(0, 32), "...' has ",
                                                     term.size(), " bytes, more than ",
                                                     kMaxTermBytes));
    }
    if (count == 0) {
      return absl::InvalidArgumentError(absl::StrCat("term '", term, "' has count 0"));
    }
    if (i > 0 && !(frequencies.terms[i - 1].first < term)) {
      return absl::InvalidArgumentError(absl::StrCat("term '", term, "' is not after '",
                                                     frequencies.terms[i - 1].first,
                                                     "': terms must be distinct and sorted"));
    }
    sum += count;
  }
  if (sum != frequencies.length) {
    return absl::InvalidArgumentError(
        absl::StrCat("length ", frequencies.length, " differs from the sum of the counts, ", sum));
  }
  return absl::OkStatus();
}

std::string EncodeTermFrequencies(const TermFrequencies& frequencies) {
  std::string out;
  out.push_back(static_cast<char>(kFormatV1));
  PutVarint(frequencies.terms.size(), &out);
  PutVarint(frequencies.length, &out);
  std::string_view previous;
  for (const auto& [term, count] : frequencies.terms) {
    const size_t limit = std::min(previous.size(), term.size());
    size_t shared = 0;
    while (shared < limit && previous[shared] == term[shared]) ++shared;
    PutVarint(shared, &out);
    PutVarint(term.size() - shared, &out);
    out.append(term, shared, std::string::npos);
    PutVarint(count, &out);
    previous = term;
  }
  return out;
}

absl::StatusOr<TermFrequencies> DecodeTermFrequencies(std::string_view encoded) {
  if (encoded.empty()) return Corrupt(0, "empty input");
  if (static_cast<uint8_t>(encoded[0]) != kFormatV1) {
    return Corrupt(0, absl::StrCat("unknown format byte ",
                                   static_cast<int>(static_cast<uint8_t>(encoded[0]))));
  }
  size_t pos = 1;
  uint64_t n_terms = 0;
  uint64_t length = 0;
  if (!GetVarint(encoded, &pos, &n_terms)) return Corrupt(pos, "truncated term count");
  if (!GetVarint(encoded, &pos, &length)) return Corrupt(pos, "truncated length");
  if (n_terms > (encoded.size() - pos) / kMinEncodedTermBytes) {
    return Corrupt(pos, absl::StrCat("term count ", n_terms, " exceeds what ", encoded.size() - pos,
                                     " bytes can hold"));
  }
  if (length > std::numeric_limits<uint32_t>::max()) {
    return Corrupt(pos, absl::StrCat("length ", length, " out of range"));
  }
  TermFrequencies result;
  result.length = static_cast<uint32_t>(length);
  result.terms.reserve(n_terms);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n_terms; ++i) {
    uint64_t shared = 0;
    uint64_t suffix = 0;
    uint64_t count = 0;
    const size_t term_start = pos;
    if (!GetVarint(encoded, &pos, &shared) || !GetVarint(encoded, &pos, &suffix)) {
      return Corrupt(pos, absl::StrCat("truncated term ", i));
    }
    const std::string* previous = i == 0 ? nullptr : &result.terms.back().first;
    if (shared > (previous == nullptr ? 0 : previous->size())) {
      return Corrupt(term_start, absl::StrCat("term ", i,
                                              " shares more bytes than the previous "
                                              "term has"));
    }
    if (suffix > encoded.size() - pos || shared + suffix > kMaxTermBytes) {
      return Corrupt(term_start, absl::StrCat("term ", i, " has a bad size"));
    }
    std::string term;
    term.reserve(shared + suffix);
    if (previous != nullptr) term.assign(*previous, 0, shared);
    term.append(encoded.substr(pos, suffix));
    pos += suffix;
    if (!GetVarint(encoded, &pos, &count)) return Corrupt(pos, absl::StrCat("truncated term ", i));
    if (count == 0 || count > std::numeric_limits<uint32_t>::max()) {
      return Corrupt(term_start, absl::StrCat("term ", i, " has count ", count));
    }
    if (term.empty() || (previous != nullptr && !(*previous < term))) {
      return Corrupt(term_start, absl::StrCat("term ", i, " is empty or out of order"));
    }
    sum += count;
    result.terms.emplace_back(std::move(term), static_cast<uint32_t>(count));
  }
  if (pos != encoded.size()) {
    return Corrupt(pos, absl::StrCat(encoded.size() - pos, " trailing bytes"));
  }
  if (sum != length) {
    return Corrupt(pos,
                   absl::StrCat("length ", length, " differs from the sum of the counts, ", sum));
  }
  return result;
}

}  // namespace ember::text
