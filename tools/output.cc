#include "tools/output.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/document_json.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr absl::string_view kHintPayload = "ember.cli/hint";
// Preview widths in code points: a search table row should fit a 120-column terminal.
constexpr size_t kTextPreviewChars = 60;
constexpr size_t kAttributesPreviewChars = 40;
// Components of a vector shown in human output before "…".
constexpr size_t kVectorPreviewComponents = 8;

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t CodePoints(absl::string_view text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); });
}

std::string FormatFloat(float value) { return absl::StrFormat("%.6g", value); }

// A side's rank and score in a table cell, "-" when the side did not find the hit (rank 0).
std::string RankCell(int rank) { return rank > 0 ? absl::StrCat(rank) : "-"; }
std::string SideScoreCell(int rank, float score) { return rank > 0 ? FormatFloat(score) : "-"; }

std::string VectorPreview(const std::vector<float>& vector) {
  std::vector<std::string> shown;
  for (size_t i = 0; i < std::min(vector.size(), kVectorPreviewComponents); ++i) {
    shown.push_back(FormatFloat(vector[i]));
  }
  if (vector.size() > kVectorPreviewComponents) shown.push_back("…");
  return absl::StrCat("[", absl::StrJoin(shown, ", "), "] (", vector.size(), " dims)");
}

struct Column {
  std::string header;
  bool right_aligned = false;
};

// Columns padded to their widest cell; the last column is not padded so lines carry no trailing
// spaces.
void PrintTable(std::FILE* out, const std::vector<Column>& columns,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const Column& column : columns) widths.push_back(CodePoints(column.header));
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], CodePoints(row[i]));
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string padding(widths[i] - CodePoints(cells[i]), ' ');
      const bool last = i + 1 == cells.size();
      if (i > 0) line += "  ";
      if (columns[i].right_aligned) {
        absl::StrAppend(&line, padding, cells[i]);
      } else {
        absl::StrAppend(&line, cells[i], last ? "" : padding);
      }
    }
    std::fprintf(out, "%s\n", line.c_str());
  };
  std::vector<std::string> header;
  for (const Column& column : columns) header.push_back(column.header);
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

void PrintJsonLine(std::FILE* out, const json& value) {
  std::fprintf(out, "%s\n", DumpJson(value).c_str());
}

json IndexToJson(const IndexSpec& index) {
  json object = {{"kind", IndexKindName(index.kind)}};
  if (index.kind == IndexKind::kHnsw) {
    object["m"] = index.hnsw.m;
    object["ef_construction"] = index.hnsw.ef_construction;
    object["ef_search"] = index.hnsw.ef_search;
  } else if (index.kind == IndexKind::kIvf) {
    object["nlist"] = index.ivf.nlist;
    object["nprobe"] = index.ivf.nprobe;
  }
  return object;
}

// "1.5 MiB".
std::string FormatBytes(int64_t bytes) {
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit + 1 < static_cast<int>(std::size(kUnits))) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrCat(bytes, " B") : absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

}  // namespace

std::string DescribeIndex(const IndexSpec& index) {
  switch (index.kind) {
    case IndexKind::kHnsw:
      return absl::StrFormat("hnsw (m=%d, ef_construction=%d, ef_search=%d)", index.hnsw.m,
                             index.hnsw.ef_construction, index.hnsw.ef_search);
    case IndexKind::kIvf:
      return absl::StrFormat("ivf (nlist=%d, nprobe=%d)", index.ivf.nlist, index.ivf.nprobe);
    case IndexKind::kFlat:
      break;
  }
  return "flat";
}

std::string DescribeEncoder(const EncoderSpec& encoder) {
  std::string description = absl::StrCat("model ", encoder.model);
  if (!encoder.query_model.empty()) {
    absl::StrAppend(&description, ", query model ", encoder.query_model);
  }
  if (encoder.query_prompt) {
    absl::StrAppend(&description, ", query prompt ", DumpJson(*encoder.query_prompt));
  }
  if (encoder.document_prompt) {
    absl::StrAppend(&description, ", document prompt ", DumpJson(*encoder.document_prompt));
  }
  if (encoder.truncate_dim != 0) {
    absl::StrAppend(&description, ", truncate_dim ", encoder.truncate_dim);
  }
  return description;
}

std::string DescribeFullText(const FullTextSpec& full_text) {
  std::string description =
      absl::StrFormat("stemmer %s, stop words %s, k1 %g, b %g", full_text.stemmer,
                      full_text.remove_stop_words ? "removed" : "kept", full_text.k1, full_text.b);
  if (!full_text.attributes.empty()) {
    absl::StrAppend(&description, ", attributes ", absl::StrJoin(full_text.attributes, ", "));
  }
  return description;
}

json SpecToJson(const CollectionSpec& spec) {
  json object = {{"name", spec.name},
                 {"dimension", spec.dimension},
                 {"metric", MetricName(spec.metric)},
                 {"index", IndexToJson(spec.index)}};
  if (spec.encoder) {
    const EncoderSpec& encoder = *spec.encoder;
    json encoder_json = {{"model", encoder.model}};
    if (!encoder.query_model.empty()) encoder_json["query_model"] = encoder.query_model;
    if (encoder.query_prompt) encoder_json["query_prompt"] = *encoder.query_prompt;
    if (encoder.document_prompt) encoder_json["document_prompt"] = *encoder.document_prompt;
    encoder_json["truncate_dim"] = encoder.truncate_dim;
    object["encoder"] = std::move(encoder_json);
  }
  if (spec.full_text.enabled) {
    const FullTextSpec& full_text = spec.full_text;
    object["full_text"] = {{"attributes", full_text.attributes},
                           {"stemmer", full_text.stemmer},
                           {"remove_stop_words", full_text.remove_stop_words},
                           {"k1", full_text.k1},
                           {"b", full_text.b}};
  }
  return object;
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Preview(absl::string_view text, size_t max_chars) {
  std::string result;
  size_t chars = 0;
  const bool cut = CodePoints(text) > max_chars;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!IsContinuationByte(c)) {
      if (cut && chars + 1 == max_chars) break;  // leave room for the ellipsis
      ++chars;
    }
    const unsigned char byte = static_cast<unsigned char>(c);
    result.push_back(byte < 0x20 || byte == 0x7F ? ' ' : c);
  }
  if (cut) result += "…";
  return result;
}

void PrintResult(std::FILE* out, Format format, absl::string_view message, const json& value) {
  if (format == Format::kJson) {
    PrintJsonLine(out, value);
  } else {
    std::fprintf(out, "%.*s\n", static_cast<int>(message.size()), message.data());
  }
}

void PrintSearchHits(std::FILE* out, Format format, std::span<const SearchHit> hits,
                     const HitFields& fields) {
  if (format == Format::kJson) {
    for (size_t i = 0; i < hits.size(); ++i) {
      const SearchHit& hit = hits[i];
      json object = {{"rank", i + 1}};
      if (fields.id) object["id"] = hit.id;
      if (fields.score) object["score"] = FloatToJson(hit.score);
      if (fields.sides) {
        const bool by_vector = hit.vector_rank > 0, by_text = hit.text_rank > 0;
        object["vector_rank"] = by_vector ? json(hit.vector_rank) : json(nullptr);
        object["vector_score"] = by_vector ? FloatToJson(hit.vector_score) : json(nullptr);
        object["text_rank"] = by_text ? json(hit.text_rank) : json(nullptr);
        object["text_score"] = by_text ? FloatToJson(hit.text_score) : json(nullptr);
      }
      if (fields.distance) object["distance"] = FloatToJson(hit.distance);
      if (fields.text) object["text"] = hit.text ? json(*hit.text) : json(nullptr);
      if (fields.attributes) object["attributes"] = AttributesToJson(hit.attributes);
      if (fields.vector) object["vector"] = VectorToJson(hit.vector);
      PrintJsonLine(out, object);
    }
    return;
  }
  if (hits.empty()) {
    std::fprintf(out, "no results\n");
    return;
  }
  std::vector<Column> columns = {{"rank", true}};
  if (fields.id) columns.push_back({"id"});
  if (fields.score) columns.push_back({"score", true});
  if (fields.sides) {
    for (const char* header : {"vec rank", "vec score", "bm25 rank", "bm25 score"}) {
      columns.push_back({header, true});
    }
  }
  if (fields.distance) columns.push_back({"distance", true});
  if (fields.text) columns.push_back({"text"});
  if (fields.attributes) columns.push_back({"attributes"});
  if (fields.vector) columns.push_back({"vector"});
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < hits.size(); ++i) {
    const SearchHit& hit = hits[i];
    std::vector<std::string> row = {absl::StrCat(i + 1)};
    if (fields.id) row.push_back(Preview(hit.id, kTextPreviewChars));
    if (fields.score) row.push_back(FormatFloat(hit.score));
    if (fields.sides) {
      row.push_back(RankCell(hit.vector_rank));
      row.push_back(SideScoreCell(hit.vector_rank, hit.vector_score));
      row.push_back(RankCell(hit.text_rank));
      row.push_back(SideScoreCell(hit.text_rank, hit.text_score));
    }
    if (fields.distance) row.push_back(FormatFloat(hit.distance));
    if (fields.text) row.push_back(Preview(hit.text.value_or(""), kTextPreviewChars));
    if (fields.attributes) {
      row.push_back(hit.attributes.empty() ? ""
                                           : Preview(DumpJson(AttributesToJson(hit.attributes)),
                                                     kAttributesPreviewChars));
    }
    if (fields.vector) row.push_back(VectorPreview(hit.vector));
    rows.push_back(std::move(row));
  }
  PrintTable(out, columns, rows);
}

void PrintSearchPlan(std::FILE* out, Format format, const SearchPlan& plan) {
  if (format == Format::kJson) {
    PrintJsonLine(out, {{"plan",
                         {{"mode", plan.mode},
                          {"strategy", plan.strategy},
                          {"estimated_candidates", plan.estimated_candidates},
                          {"matching_documents", plan.matching_documents},
                          {"documents_scanned", plan.documents_scanned},
                          {"unindexed_attributes", plan.unindexed_attributes},
                          {"ef_search", plan.ef_search},
                          {"nprobe", plan.nprobe},
                          {"exact_scored", plan.exact_scored},
                          {"text_strategy", plan.text_strategy},
                          {"text_terms", plan.text_terms},
                          {"fusion", plan.fusion},
                          {"fusion_depth", plan.fusion_depth},
                          {"vector_hits", plan.vector_hits},
                          {"text_hits", plan.text_hits}}}});
    return;
  }
  std::fprintf(out, "plan:\n");
  for (absl::string_view line : absl::StrSplit(plan.ToString(), '\n', absl::SkipEmpty())) {
    std::fprintf(out, "  %s\n", std::string(line).c_str());
  }
}

void PrintDocuments(std::FILE* out, Format format, std::span<const Document> documents) {
  for (size_t i = 0; i < documents.size(); ++i) {
    const Document& document = documents[i];
    if (format == Format::kJson) {
      PrintJsonLine(out, DocumentToJson(document));
      continue;
    }
    if (i > 0) std::fprintf(out, "\n");
    std::fprintf(out, "id          %s\n", document.id.c_str());
    if (document.text) std::fprintf(out, "text        %s\n", document.text->c_str());
    if (!document.attributes.empty()) {
      std::fprintf(out, "attributes  %s\n",
                   DumpJson(AttributesToJson(document.attributes)).c_str());
    }
    if (!document.vector.empty()) {
      std::fprintf(out, "vector      %s\n", VectorPreview(document.vector).c_str());
    }
  }
}

void PrintCollections(std::FILE* out, Format format,
                      std::span<const CollectionSummary> collections) {
  if (format == Format::kJson) {
    for (const CollectionSummary& collection : collections) {
      json object = SpecToJson(collection.spec);
      object["documents"] = collection.document_count;
      PrintJsonLine(out, object);
    }
    return;
  }
  if (collections.empty()) {
    std::fprintf(out, "no collections\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const CollectionSummary& collection : collections) {
    const CollectionSpec& spec = collection.spec;
    // A text-only collection has no vectors, hence no dimension, metric or vector index to show.
    const bool vectors = spec.dimension > 0;
    rows.push_back(
        {spec.name, vectors ? absl::StrCat(spec.dimension) : "-",
         vectors ? MetricName(spec.metric) : "-", vectors ? DescribeIndex(spec.index) : "-",
         spec.encoder ? spec.encoder->model : "-",
         spec.full_text.enabled ? absl::StrCat("bm25 (", spec.full_text.stemmer, ")") : "-",
         absl::StrCat(collection.document_count)});
  }
  PrintTable(out,
             {{"name"},
              {"dimension", true},
              {"metric"},
              {"index"},
              {"model"},
              {"full text"},
              {"documents", true}},
             rows);
}

void PrintCollectionStats(std::FILE* out, Format format, const CollectionSpec& spec,
                          const CollectionStats& stats) {
  if (format == Format::kJson) {
    json object = SpecToJson(spec);
    object["documents"] = stats.document_count;
    object["index_vectors"] = stats.index_vectors;
    object["index_tombstones"] = stats.index_tombstones;
    object["index_trained"] = stats.index_trained;
    object["changes_since_snapshot"] = stats.changes_since_snapshot;
    object["index_memory_bytes"] = stats.index_memory_bytes;
    if (spec.full_text.enabled) {
      object["text_terms"] = stats.text_terms;
      object["text_postings"] = stats.text_postings;
      object["text_memory_bytes"] = stats.text_memory_bytes;
    }
    PrintJsonLine(out, object);
    return;
  }
  const bool vectors = spec.dimension > 0;
  std::vector<std::pair<const char*, std::string>> lines = {{"collection", spec.name}};
  if (vectors) {
    lines.push_back({"dimension", absl::StrCat(spec.dimension)});
    lines.push_back({"metric", MetricName(spec.metric)});
    lines.push_back({"index", DescribeIndex(spec.index)});
  } else {
    lines.push_back({"dimension", "none (text-only: no vectors)"});
  }
  if (spec.encoder) {
    const EncoderSpec& encoder = *spec.encoder;
    lines.push_back({"model", encoder.model});
    lines.push_back(
        {"query model", encoder.query_model.empty() ? "(the model)" : encoder.query_model});
    lines.push_back(
        {"query prompt", encoder.query_prompt ? DumpJson(*encoder.query_prompt) : "(the model's)"});
    lines.push_back({"document prompt", encoder.document_prompt ? DumpJson(*encoder.document_prompt)
                                                                : "(the model's)"});
    lines.push_back(
        {"truncate dim", encoder.truncate_dim == 0 ? "none" : absl::StrCat(encoder.truncate_dim)});
  }
  lines.push_back(
      {"full text", spec.full_text.enabled ? DescribeFullText(spec.full_text) : "none"});
  lines.push_back({"documents", absl::StrCat(stats.document_count)});
  if (vectors) {
    const std::pair<const char*, std::string> statistics[] = {
        {"index vectors", absl::StrCat(stats.index_vectors)},
        {"index tombstones", absl::StrCat(stats.index_tombstones)},
        {"index trained", stats.index_trained ? "yes" : "no (exact search until it is)"},
        {"changes since snapshot", absl::StrCat(stats.changes_since_snapshot)},
        {"index memory", FormatBytes(stats.index_memory_bytes)},
    };
    lines.insert(lines.end(), std::begin(statistics), std::end(statistics));
  }
  if (spec.full_text.enabled) {
    lines.push_back({"text terms", absl::StrCat(stats.text_terms)});
    lines.push_back({"text postings", absl::StrCat(stats.text_postings)});
    lines.push_back({"text index memory", FormatBytes(stats.text_memory_bytes)});
  }
  for (const auto& [name, value] : lines) std::fprintf(out, "%-24s%s\n", name, value.c_str());
}

absl::Status WithHint(absl::Status status, absl::string_view hint) {
  status.SetPayload(kHintPayload, absl::Cord(hint));
  return status;
}

void PrintError(std::FILE* out, const absl::Status& status) {
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    std::fprintf(out, "ember: %.*s\n", static_cast<int>(line.size()), line.data());
  }
  if (auto hint = status.GetPayload(kHintPayload)) {
    std::fprintf(out, "hint: %s\n", std::string(*hint).c_str());
  }
}

}  // namespace ember::cli
