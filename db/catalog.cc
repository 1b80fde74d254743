#include "db/catalog.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ember::db {

std::string EncodeCollectionRecord(const CollectionRecord& record) {
  const CollectionSpec& spec = record.spec;
  nlohmann::json json = {
      {"id", record.id},
      {"name", spec.name},
      {"dimension", spec.dimension},
      {"metric", MetricName(spec.metric)},
      {"index",
       {{"kind", IndexKindName(spec.index.kind)},
        {"hnsw",
         {{"m", spec.index.hnsw.m},
          {"ef_construction", spec.index.hnsw.ef_construction},
          {"ef_search", spec.index.hnsw.ef_search}}},
        {"ivf", {{"nlist", spec.index.ivf.nlist}, {"nprobe", spec.index.ivf.nprobe}}}}},
      {"attributes", nlohmann::json::array()},
  };
  if (record.vectors_id != 0 && record.vectors_id != record.id) {
    json["vectors_id"] = record.vectors_id;
  }
  for (const AttributeSpec& attribute : spec.attributes) {
    json["attributes"].push_back({{"name", attribute.name},
                                  {"type", AttributeTypeName(attribute.type)},
                                  {"indexed", attribute.indexed}});
  }
  if (spec.encoder) {
    const EncoderSpec& encoder = *spec.encoder;
    nlohmann::json& out = json["encoder"] = {
        {"model", encoder.model},
        {"query_model", encoder.query_model},
        {"truncate_dim", encoder.truncate_dim},
        {"document_fingerprint", record.document_fingerprint},
        {"query_fingerprint", record.query_fingerprint},
    };
    if (encoder.query_prompt) out["query_prompt"] = *encoder.query_prompt;
    if (encoder.document_prompt) out["document_prompt"] = *encoder.document_prompt;
  }
  if (spec.full_text.enabled) {
    const FullTextSpec& full_text = spec.full_text;
    json["full_text"] = {
        {"attributes", full_text.attributes},
        {"stemmer", full_text.stemmer},
        {"remove_stop_words", full_text.remove_stop_words},
        {"k1", full_text.k1},
        {"b", full_text.b},
        {"analyzer_fingerprint", record.analyzer_fingerprint},
    };
  }
  return json.dump();
}

absl::StatusOr<CollectionRecord> DecodeCollectionRecord(std::string_view text) {
  CollectionRecord record;
  CollectionSpec& spec = record.spec;
  try {
    const nlohmann::json json = nlohmann::json::parse(text);
    record.id = json.at("id").get<CollectionId>();
    // Absent in records that were never reembedded (and in those written before reembedding).
    if (const auto vectors_id = json.find("vectors_id"); vectors_id != json.end()) {
      record.vectors_id = vectors_id->get<CollectionId>();
    }
    spec.name = json.at("name").get<std::string>();
    spec.dimension = json.at("dimension").get<int>();
    absl::StatusOr<Metric> metric = ParseMetric(json.at("metric").get<std::string>());
    const nlohmann::json& index = json.at("index");
    absl::StatusOr<IndexKind> kind = ParseIndexKind(index.at("kind").get<std::string>());
    if (!metric.ok() || !kind.ok()) throw std::invalid_argument("unknown metric or index kind");
    spec.metric = *metric;
    spec.index.kind = *kind;
    spec.index.hnsw.m = index.at("hnsw").at("m").get<int>();
    spec.index.hnsw.ef_construction = index.at("hnsw").at("ef_construction").get<int>();
    spec.index.hnsw.ef_search = index.at("hnsw").at("ef_search").get<int>();
    spec.index.ivf.nlist = index.at("ivf").at("nlist").get<int>();
    spec.index.ivf.nprobe = index.at("ivf").at("nprobe").get<int>();
    for (const nlohmann::json& attribute : json.at("attributes")) {
      absl::StatusOr<AttributeType> type =
          ParseAttributeType(attribute.at("type").get<std::string>());
      if (!type.ok()) throw std::invalid_argument(std::string(type.status().message()));
      spec.attributes.push_back({.name = attribute.at("name").get<std::string>(),
                                 .type = *type,
                                 .indexed = attribute.at("indexed").get<bool>()});
    }
    if (const auto encoder = json.find("encoder"); encoder != json.end()) {
      EncoderSpec& out = spec.encoder.emplace();
      out.model = encoder->at("model").get<std::string>();
      out.query_model = encoder->at("query_model").get<std::string>();
      out.truncate_dim = encoder->at("truncate_dim").get<int>();
      if (encoder->contains("query_prompt")) {
        out.query_prompt = encoder->at("query_prompt").get<std::string>();
      }
      if (encoder->contains("document_prompt")) {
        out.document_prompt = encoder->at("document_prompt").get<std::string>();
      }
      record.document_fingerprint = encoder->at("document_fingerprint").get<std::string>();
      record.query_fingerprint = encoder->at("query_fingerprint").get<std::string>();
    }
    if (const auto full_text = json.find("full_text"); full_text != json.end()) {
      FullTextSpec& out = spec.full_text;
      out.enabled = true;
      out.attributes = full_text->at("attributes").get<std::vector<std::string>>();
      out.stemmer = full_text->at("stemmer").get<std::string>();
      out.remove_stop_words = full_text->at("remove_stop_words").get<bool>();
      out.k1 = full_text->at("k1").get<double>();
      out.b = full_text->at("b").get<double>();
      record.analyzer_fingerprint = full_text->at("analyzer_fingerprint").get<std::string>();
    }
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat("corrupt collection record in the catalog: ", e.what()));
  }
  if (absl::Status status = ValidateCollectionSpec(spec); !status.ok()) {
    return absl::DataLossError(
        absl::StrCat("corrupt collection record in the catalog: ", status.message()));
  }
  return record;
}

std::string StagedVectorsKey(CollectionId vectors_id) {
  return absl::StrCat(kStagedVectorsPrefix, vectors_id);
}

bool DecodeStagedVectorsKey(std::string_view key, CollectionId* vectors_id) {
  const std::string_view prefix(kStagedVectorsPrefix);
  if (!key.starts_with(prefix)) return false;
  key.remove_prefix(prefix.size());
  return absl::SimpleAtoi(std::string(key), vectors_id) && *vectors_id != 0;
}

}  // namespace ember::db
