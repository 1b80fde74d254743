#include "db/validation.h"

#include <cmath>
#include <cstring>
#include <span>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ember/options.h"
#include "ember/status.h"
#include "text/analyzer.h"

namespace ember {

const char* ValueTypeName(const Value& value) {
  static constexpr const char* kNames[] = {"null", "bool", "int", "double", "string", "list"};
  return kNames[value.index()];
}

namespace {

// Length of the UTF-8 sequence starting at `s[i]`, or 0 when it is not a valid, shortest-form
// encoding of a Unicode scalar value.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&s](size_t j) { return static_cast<unsigned char>(s[j]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  uint32_t code_point;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t j = 1; j < length; ++j) {
    if ((byte(i + j) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + j) & 0x3F);
  }
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinimum[length] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t length = Utf8SequenceLength(s, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

bool HasType(const Value& value, AttributeType type) {
  switch (type) {
    case AttributeType::kBool:
      return std::holds_alternative<bool>(value);
    case AttributeType::kInt:
      return std::holds_alternative<int64_t>(value);
    case AttributeType::kDouble:
      return std::holds_alternative<double>(value) || std::holds_alternative<int64_t>(value);
    case AttributeType::kString:
      return std::holds_alternative<std::string>(value);
    case AttributeType::kStringList:
      return std::holds_alternative<std::vector<std::string>>(value);
  }
  return false;
}

absl::Status ValidateAttributes(const Attributes& attributes,
                                std::span<const AttributeSpec> declared) {
  for (const AttributeSpec& spec : declared) {
    const auto it = attributes.find(spec.name);
    if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    if (!HasType(it->second, spec.type)) {
      return absl::InvalidArgumentError(absl::StrCat("attribute \"", spec.name, "\" is declared ",
                                                     AttributeTypeName(spec.type), " but is ",
                                                     ValueTypeName(it->second)));
    }
  }
  for (const auto& [name, value] : attributes) {
    if (name.empty()) return absl::InvalidArgumentError("an attribute has an empty name");
    if (!IsValidUtf8(name)) {
      return absl::InvalidArgumentError("an attribute name is not valid UTF-8");
    }
    if (const double* d = std::get_if<double>(&value); d != nullptr && !std::isfinite(*d)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute \"", name, "\" is not a finite number"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRange(std::string_view field, int64_t value, int64_t low, int64_t high) {
  if (value >= low && value <= high) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s must be in [%d, %d], got %d", field, low, high, value));
}

absl::Status CheckRealRange(std::string_view field, double value, double low, double high) {
  if (value >= low && value <= high) return absl::OkStatus();  // false for NaN
  return absl::InvalidArgumentError(
      absl::StrFormat("%s must be in [%g, %g], got %g", field, low, high, value));
}

absl::Status ValidateFullTextSpec(const CollectionSpec& spec) {
  const FullTextSpec& full_text = spec.full_text;
  if (!full_text.enabled) {
    if (!full_text.attributes.empty()) {
      return absl::InvalidArgumentError(
          "full_text.attributes are given but full_text is not enabled");
    }
    return absl::OkStatus();
  }
  EMBER_RETURN_IF_ERROR(CheckRealRange("full_text.k1", full_text.k1, 0.0, 1e6));
  EMBER_RETURN_IF_ERROR(CheckRealRange("full_text.b", full_text.b, 0.0, 1.0));
  text::AnalyzerOptions analyzer;
  analyzer.stemmer = full_text.stemmer;
  if (absl::Status status = text::ValidateAnalyzerOptions(analyzer); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("full_text: ", status.message()));
  }
  absl::flat_hash_set<std::string_view> names;
  for (const std::string& name : full_text.attributes) {
    const auto declared = absl::c_find_if(spec.attributes, [&name](const AttributeSpec& attribute) {
      return attribute.name == name;
    });
    if (declared == spec.attributes.end() || (declared->type != AttributeType::kString &&
                                              declared->type != AttributeType::kStringList)) {
      return absl::InvalidArgumentError(
          absl::StrCat("full_text.attributes names \"", name,
                       "\", which is not a declared attribute of type string or list"));
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("full_text.attributes names \"", name, "\" twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kInnerProduct:
      return "ip";
    case Metric::kL2:
      return "l2";
  }
  return "unknown";
}

const char* IndexKindName(IndexKind kind) {
  switch (kind) {
    case IndexKind::kFlat:
      return "flat";
    case IndexKind::kHnsw:
      return "hnsw";
    case IndexKind::kIvf:
      return "ivf";
  }
  return "unknown";
}

const char* AttributeTypeName(AttributeType type) {
  switch (type) {
    case AttributeType::kBool:
      return "bool";
    case AttributeType::kInt:
      return "int";
    case AttributeType::kDouble:
      return "double";
    case AttributeType::kString:
      return "string";
    case AttributeType::kStringList:
      return "list";
  }
  return "unknown";
}

absl::StatusOr<AttributeType> ParseAttributeType(std::string_view name) {
  for (AttributeType type : {AttributeType::kBool, AttributeType::kInt, AttributeType::kDouble,
                             AttributeType::kString, AttributeType::kStringList}) {
    if (name == AttributeTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown attribute type \"", std::string(name),
                                                 "\"; expected bool, int, double, string or list"));
}

absl::StatusOr<Metric> ParseMetric(std::string_view name) {
  for (Metric metric : {Metric::kCosine, Metric::kInnerProduct, Metric::kL2}) {
    if (name == MetricName(metric)) return metric;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown metric \"", std::string(name), "\"; expected cosine, ip or l2"));
}

absl::StatusOr<IndexKind> ParseIndexKind(std::string_view name) {
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf}) {
    if (name == IndexKindName(kind)) return kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown index kind \"", std::string(name), "\"; expected flat, hnsw or ivf"));
}

const char* SearchModeName(SearchMode mode) {
  switch (mode) {
    case SearchMode::kAuto:
      return "auto";
    case SearchMode::kVector:
      return "vector";
    case SearchMode::kText:
      return "text";
    case SearchMode::kHybrid:
      return "hybrid";
  }
  return "unknown";
}

SearchMode ResolveSearchMode(SearchMode mode, const CollectionSpec& spec, bool has_text) {
  if (mode != SearchMode::kAuto) return mode;
  if (spec.dimension == 0) return SearchMode::kText;
  return spec.full_text.enabled && has_text ? SearchMode::kHybrid : SearchMode::kVector;
}

absl::StatusOr<SearchMode> ParseSearchMode(std::string_view name) {
  for (SearchMode mode :
       {SearchMode::kAuto, SearchMode::kVector, SearchMode::kText, SearchMode::kHybrid}) {
    if (name == SearchModeName(mode)) return mode;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown search mode \"", std::string(name),
                                                 "\"; expected auto, vector, text or hybrid"));
}

const char* FusionMethodName(FusionMethod method) {
  switch (method) {
    case FusionMethod::kReciprocalRank:
      return "rrf";
    case FusionMethod::kWeighted:
      return "weighted";
  }
  return "unknown";
}

absl::StatusOr<FusionMethod> ParseFusionMethod(std::string_view name) {
  for (FusionMethod method : {FusionMethod::kReciprocalRank, FusionMethod::kWeighted}) {
    if (name == FusionMethodName(method)) return method;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown fusion method \"", std::string(name), "\"; expected rrf or weighted"));
}

absl::Status ValidateCollectionSpec(const CollectionSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 128 || spec.name[0] == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("collection name must be 1 to 128 characters and not start with '.', got \"",
                     spec.name, "\""));
  }
  for (char c : spec.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return absl::InvalidArgumentError(absl::StrCat("collection name \"", spec.name,
                                                     "\" may only contain letters, digits, _ - ."));
    }
  }
  // With an encoder, dimension 0 stands for the model's (CreateCollection fills it in); without
  // one, it makes a text-only collection.
  if (spec.dimension != 0 || !(spec.encoder || spec.full_text.enabled)) {
    EMBER_RETURN_IF_ERROR(CheckRange("dimension", spec.dimension, 1, 65536));
  }
  if (spec.encoder) {
    if (spec.encoder->model.empty()) {
      return absl::InvalidArgumentError(
          "encoder.model is empty: name a model folder, a hub id or "
          "\"default\"");
    }
    EMBER_RETURN_IF_ERROR(CheckRange("encoder.truncate_dim", spec.encoder->truncate_dim, 0, 65536));
  }
  EMBER_RETURN_IF_ERROR(ValidateFullTextSpec(spec));
  absl::flat_hash_set<std::string_view> attribute_names;
  for (const AttributeSpec& attribute : spec.attributes) {
    if (attribute.name.empty() || attribute.name.size() > 256 || !IsValidUtf8(attribute.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute name \"", attribute.name, "\" must be 1 to 256 bytes of UTF-8"));
    }
    if (!attribute_names.insert(attribute.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute \"", attribute.name, "\" is declared twice"));
    }
    if (std::string_view(AttributeTypeName(attribute.type)) == "unknown") {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute \"", attribute.name, "\" has an unknown type"));
    }
  }
  switch (spec.metric) {
    case Metric::kCosine:
    case Metric::kInnerProduct:
    case Metric::kL2:
      break;
    default:
      return absl::InvalidArgumentError("metric must be cosine, inner product or L2");
  }
  switch (spec.index.kind) {
    case IndexKind::kFlat:
      return absl::OkStatus();
    case IndexKind::kHnsw: {
      const HnswParams& hnsw = spec.index.hnsw;
      EMBER_RETURN_IF_ERROR(CheckRange("hnsw.m", hnsw.m, 2, 256));
      EMBER_RETURN_IF_ERROR(CheckRange("hnsw.ef_construction", hnsw.ef_construction, hnsw.m, 4096));
      return CheckRange("hnsw.ef_search", hnsw.ef_search, 1, 32768);
    }
    case IndexKind::kIvf: {
      const IvfParams& ivf = spec.index.ivf;
      EMBER_RETURN_IF_ERROR(CheckRange("ivf.nlist", ivf.nlist, 1, 1 << 20));
      return CheckRange("ivf.nprobe", ivf.nprobe, 1, ivf.nlist);
    }
  }
  return absl::InvalidArgumentError("index kind must be flat, hnsw or ivf");
}

namespace db {

absl::Status ValidateDocumentId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("document id is empty");
  if (id.size() > kMaxDocumentIdBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "document id is %d bytes long; the limit is %d", id.size(), kMaxDocumentIdBytes));
  }
  if (!IsValidUtf8(id)) return absl::InvalidArgumentError("document id is not valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidateVector(std::span<const float> vector, int dimension, std::string_view what) {
  if (vector.size() != static_cast<size_t>(dimension)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s has %d components; the collection's dimension is %d", what, vector.size(), dimension));
  }
  // Every search pays this check: first a pass without a branch per component (it vectorizes; a
  // float is infinite or NaN exactly when its exponent bits are all ones), then, only on failure,
  // the search for the component to name.
  uint32_t non_finite = 0;
  for (const float component : vector) {
    uint32_t bits;
    std::memcpy(&bits, &component, sizeof(bits));
    non_finite |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (non_finite == 0) return absl::OkStatus();
  for (size_t i = 0; i < vector.size(); ++i) {
    if (!std::isfinite(vector[i])) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s component %d is %f; components must be finite", what, i, vector[i]));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateDocuments(std::span<const Document> documents, const CollectionSpec& spec) {
  const int dimension = spec.dimension;
  absl::flat_hash_set<std::string_view> ids;
  ids.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    const Document& document = documents[i];
    absl::Status status = ValidateDocumentId(document.id);
    if (status.ok() && !ids.insert(document.id).second) {
      status = absl::InvalidArgumentError("the same id appears earlier in this batch");
    }
    if (status.ok() && document.vector.empty() && spec.encoder) {
      status = absl::InvalidArgumentError(
          "it has neither a vector nor a text for the collection's model to embed");
    }
    if (status.ok() && dimension == 0 && !document.vector.empty()) {
      status = absl::InvalidArgumentError(
          "it has a vector, but the collection is text-only (it stores no vectors)");
    }
    if (status.ok() && dimension > 0) {
      status = ValidateVector(document.vector, dimension, "vector");
    }
    if (status.ok()) status = ValidateAttributes(document.attributes, spec.attributes);
    if (!status.ok()) {
      // Ids may be garbage here (that may be the error), so quote at most a printable prefix.
      std::string shown = document.id.substr(0, 64);
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20) c = '?';
      }
      return absl::InvalidArgumentError(
          absl::StrFormat("document %d (id \"%s%s\"): %s; nothing in this batch was written", i,
                          shown, document.id.size() > 64 ? "..." : "", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSearchRequest(const SearchRequest& request) {
  EMBER_RETURN_IF_ERROR(CheckRange("k", request.k, 1, kMaxSearchK));
  EMBER_RETURN_IF_ERROR(CheckRange("ef_search", request.ef_search, 0, 1 << 20));
  EMBER_RETURN_IF_ERROR(CheckRange("nprobe", request.nprobe, 0, 1 << 20));
  const FusionOptions& fusion = request.fusion;
  switch (fusion.method) {
    case FusionMethod::kReciprocalRank:
    case FusionMethod::kWeighted:
      break;
    default:
      return absl::InvalidArgumentError("fusion.method must be rrf or weighted");
  }
  EMBER_RETURN_IF_ERROR(CheckRealRange("fusion.rank_constant", fusion.rank_constant, 0.0, 1e9));
  EMBER_RETURN_IF_ERROR(CheckRealRange("fusion.vector_weight", fusion.vector_weight, 0.0, 1.0));
  return CheckRange("fusion.depth", fusion.depth, 0, kMaxSearchK);
}

}  // namespace db
}  // namespace ember
