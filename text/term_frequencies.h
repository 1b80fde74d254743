// TermFrequencies: what full-text search keeps of one document — each distinct term with its count,
// and the document's length in tokens — and its compact binary encoding, which the database stores
// next to the document so that the in-memory BM25 index can be rebuilt without re-analyzing text.
// Plain values and pure functions; safe to use from any thread.
#ifndef EMBER_TEXT_TERM_FREQUENCIES_H_
#define EMBER_TEXT_TERM_FREQUENCIES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::text {

// The longest term a bag may hold, in bytes (the analyzer's tokens are far shorter). The bound
// keeps decoding of hostile input cheap.
inline constexpr size_t kMaxTermBytes = 1024;

// The bag of terms of one analyzed document (or query).
struct TermFrequencies {
  /// Distinct terms with their counts (each >= 1), sorted by term (bytewise), no term twice, no
  /// empty term, none longer than kMaxTermBytes.
  std::vector<std::pair<std::string, uint32_t>> terms;
  /// Tokens the analyzer emitted: the sum of the counts. BM25's document length.
  uint32_t length = 0;

  friend bool operator==(const TermFrequencies&, const TermFrequencies&) = default;
};

// Builds the bag of a token sequence (as Analyzer::Analyze returns it). Empty tokens and tokens
// longer than kMaxTermBytes are skipped (the analyzer emits neither). Requires fewer than 2^32
// tokens.
TermFrequencies CountTerms(const std::vector<std::string>& tokens);

// OK when `frequencies` keeps the invariants documented on the struct (sorted, distinct, non-empty
// terms of at most kMaxTermBytes, counts >= 1, length == sum of counts); otherwise InvalidArgument
// naming the offending term.
absl::Status ValidateTermFrequencies(const TermFrequencies& frequencies);

// Compact binary form (front-coded terms, varint counts), prefixed by a format byte:
//   byte 0x01 (format version; frozen: part of the stored format)
//   varint number of terms, varint length
//   per term: varint bytes shared with the previous term, varint suffix size, suffix, varint count
// Requires ValidateTermFrequencies(frequencies).ok(); the output is then canonical (equal bags
// encode to equal bytes).
std::string EncodeTermFrequencies(const TermFrequencies& frequencies);

// Inverse of EncodeTermFrequencies. Any byte string is safe to pass: DataLoss (saying what is
// wrong and at which byte) when it is truncated, has trailing bytes, an unknown format byte, or
// decodes to something ValidateTermFrequencies rejects. Never crashes; memory is bounded by the
// input (each term costs at least 3 encoded bytes and holds at most kMaxTermBytes).
absl::StatusOr<TermFrequencies> DecodeTermFrequencies(std::string_view encoded);

}  // namespace ember::text

#endif  // EMBER_TEXT_TERM_FREQUENCIES_H_
