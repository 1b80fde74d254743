// What the `ember` command prints: results in a human form (aligned tables, readable blocks) or,
// with
// --json, as JSON for scripts (one JSON object per line: one line for a single answer, one line per
// result for lists), and errors as "ember: <message>" with a hint on what to do next.
//
// Thread-safety: functions write to the FILE* they are given; calls from several threads to the
// same stream interleave.
#ifndef EMBER_TOOLS_OUTPUT_H_
#define EMBER_TOOLS_OUTPUT_H_

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ember/document.h"
#include "ember/options.h"
#include "ember/search.h"
#include "nlohmann/json.hpp"

namespace ember::cli {

enum class Format { kHuman, kJson };

// "hnsw (m=32, ef_construction=200, ef_search=64)", "ivf (nlist=1024, nprobe=32)", "flat".
std::string DescribeIndex(const IndexSpec& index);

// "model M", then ", query model Q", ", query prompt \"P\"", ", document prompt \"P\"" and
// ", truncate_dim N" for what the spec sets.
std::string DescribeEncoder(const EncoderSpec& encoder);

// "stemmer porter, stop words removed, k1 0.9, b 0.4", then ", attributes A, B" when the spec
// indexes attributes as text.
std::string DescribeFullText(const FullTextSpec& full_text);

// {"name", "dimension", "metric", "index": {"kind", and the kind's parameters}}; for a collection
// with an encoder, "encoder": {"model", then "query_model", "query_prompt", "document_prompt" when
// set, and "truncate_dim"}; for one with a full-text index, "full_text": {"attributes", "stemmer",
// "remove_stop_words", "k1", "b"}. A text-only collection has dimension 0.
nlohmann::ordered_json SpecToJson(const CollectionSpec& spec);

// Which fields of a search hit are printed (`search --fields`).
struct HitFields {
  bool id = true;
  bool score = true;
  bool distance = false;
  bool text = true;
  bool attributes = true;
  bool vector = false;
  /// Where each side of a hybrid search ranked the hit and the score it gave (SearchHit's
  /// vector_rank, vector_score, text_rank, text_score). Set by `search` for hybrid searches, not
  /// by --fields.
  bool sides = false;
};

// A collection as `ember collections` lists it.
struct CollectionSummary {
  CollectionSpec spec;
  int64_t document_count = 0;
};

// Serializes `json` on one line. Invalid UTF-8 in strings is replaced (U+FFFD) instead of throwing.
std::string DumpJson(const nlohmann::ordered_json& json);

// `text` on one line (control characters become spaces), cut to at most `max_chars` code points
// with "…" marking the cut. Never splits a UTF-8 sequence.
std::string Preview(absl::string_view text, size_t max_chars);

// Human: "message". JSON: `json` on one line.
void PrintResult(std::FILE* out, Format format, absl::string_view message,
                 const nlohmann::ordered_json& json);

// Human: a table of rank, the chosen fields and a preview of text and attributes; with
// fields.sides, after the score, "vec rank", "vec score", "bm25 rank", "bm25 score" ("-" where a
// side did not find the hit). JSON: one object per hit with "rank" and the chosen fields; with
// fields.sides, "vector_rank", "vector_score", "text_rank", "text_score" (null where a side did not
// find the hit).
void PrintSearchHits(std::FILE* out, Format format, std::span<const SearchHit> hits,
                     const HitFields& fields);

// Human: "plan:" and SearchPlan::ToString()'s lines, indented. JSON: {"plan": {...}} on one line,
// holding every field of the plan (the mode and the vector side's fields first, then the text
// side's and the fusion's).
void PrintSearchPlan(std::FILE* out, Format format, const SearchPlan& plan);

// Human: one block of "field  value" lines per document (no vector line for a document without
// one, as in a text-only collection). JSON: one object per document (see DocumentToJson).
void PrintDocuments(std::FILE* out, Format format, std::span<const Document> documents);

// Human: a table of name, dimension, metric, index, model ("-" without an encoder), full text
// ("bm25 (STEMMER)", "-" without) and documents; a text-only collection shows "-" for dimension,
// metric and index. JSON: one object per collection (SpecToJson and "documents").
void PrintCollections(std::FILE* out, Format format,
                      std::span<const CollectionSummary> collections);

// Human: a block of "name  value" lines (with the encoder's models, prompts and truncate_dim when
// the collection has one, the full-text settings and the text index's terms, postings and memory
// when it has a full-text index, and no vector index lines when it is text-only). JSON: one object
// holding the spec and the statistics, with "text_terms", "text_postings" and
// "text_memory_bytes" when the collection has a full-text index.
void PrintCollectionStats(std::FILE* out, Format format, const CollectionSpec& spec,
                          const CollectionStats& stats);

// Returns `status` carrying `hint`, a suggestion PrintError shows below the message.
absl::Status WithHint(absl::Status status, absl::string_view hint);

// Writes "ember: <line>" for each line of the message and, when the status carries one, "hint:
// <hint>" (stderr in practice).
void PrintError(std::FILE* out, const absl::Status& status);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_OUTPUT_H_
