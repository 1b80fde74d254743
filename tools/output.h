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

// {"name", "dimension", "metric", "index": {"kind", and the kind's parameters}}, and, for a
// collection with an encoder, "encoder": {"model", then "query_model", "query_prompt",
// "document_prompt" when set, and "truncate_dim"}.
nlohmann::ordered_json SpecToJson(const CollectionSpec& spec);

// Which fields of a search hit are printed (`search --fields`).
struct HitFields {
  bool id = true;
  bool score = true;
  bool distance = false;
  bool text = true;
  bool attributes = true;
  bool vector = false;
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

// Human: a table of rank, the chosen fields and a preview of text and attributes. JSON: one object
// per hit with "rank" and the chosen fields.
void PrintSearchHits(std::FILE* out, Format format, std::span<const SearchHit> hits,
                     const HitFields& fields);

// Human: "plan:" and SearchPlan::ToString()'s lines, indented. JSON: {"plan": {...}} on one line,
// holding every field of the plan.
void PrintSearchPlan(std::FILE* out, Format format, const SearchPlan& plan);

// Human: one block of "field  value" lines per document. JSON: one object per document
// (see DocumentToJson).
void PrintDocuments(std::FILE* out, Format format, std::span<const Document> documents);

// Human: a table of name, dimension, metric, index, model ("-" without an encoder) and documents.
// JSON: one object per collection.
void PrintCollections(std::FILE* out, Format format,
                      std::span<const CollectionSummary> collections);

// Human: a block of "name  value" lines (with the encoder's models, prompts and truncate_dim when
// the collection has one). JSON: one object holding the spec and the statistics.
void PrintCollectionStats(std::FILE* out, Format format, const CollectionSpec& spec,
                          const CollectionStats& stats);

// Returns `status` carrying `hint`, a suggestion PrintError shows below the message.
absl::Status WithHint(absl::Status status, absl::string_view hint);

// Writes "ember: <line>" for each line of the message and, when the status carries one, "hint:
// <hint>" (stderr in practice).
void PrintError(std::FILE* out, const absl::Status& status);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_OUTPUT_H_
