#include "db/encoders.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "embed/model_hub.h"
#include "ember/status.h"

namespace ember {

absl::StatusOr<std::string> ResolveModelFolder(const std::string& name,
                                               const std::string& models_dir) {
  std::error_code error;
  if (std::filesystem::is_directory(name, error)) return name;
  // A bare name ("default") is looked up among the installed models.
  if (name.find('/') == std::string::npos) {
    std::string dir = models_dir;
    if (dir.empty()) {
      const char* env = std::getenv("EMBER_MODELS_DIR");
      if (env != nullptr) dir = env;
    }
    if (dir.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "model \"", name, "\": not a folder, and no models folder is set to look it up in ",
          "(DatabaseOptions::models_dir or EMBER_MODELS_DIR)"));
    }
    const std::string folder = (std::filesystem::path(dir) / name).string();
    if (!std::filesystem::is_directory(folder, error)) {
      return absl::NotFoundError(
          absl::StrCat("model \"", name, "\": no folder ", folder,
                       name == "default" ? " (scripts/fetch-default-model.sh installs it)" : ""));
    }
    return folder;
  }
  return embed::ResolveModel(name);
}

}  // namespace ember

namespace ember::db {

absl::StatusOr<std::vector<float>> CollectionEncoders::EmbedDocuments(
    std::span<const std::string> texts) const {
  return document->Embed(texts, embed::EmbedRole::kDocument);
}

absl::StatusOr<std::vector<float>> CollectionEncoders::EmbedQuery(const std::string& text) const {
  return query->Embed(std::span<const std::string>(&text, 1), embed::EmbedRole::kQuery);
}

namespace {

absl::StatusOr<std::shared_ptr<const embed::Encoder>> LoadModel(const std::string& name,
                                                                const EncoderSpec& spec,
                                                                const std::string& models_dir) {
  EMBER_ASSIGN_OR_RETURN(const std::string folder, ResolveModelFolder(name, models_dir));
  absl::StatusOr<std::unique_ptr<embed::Encoder>> encoder =
      embed::LoadEncoder(folder, {.query_prompt = spec.query_prompt,
                                  .document_prompt = spec.document_prompt,
                                  .truncate_dim = spec.truncate_dim});
  if (!encoder.ok()) {
    return absl::Status(encoder.status().code(),
                        absl::StrCat("model \"", name, "\": ", encoder.status().message()));
  }
  return std::shared_ptr<const embed::Encoder>(*std::move(encoder));
}

}  // namespace

absl::StatusOr<CollectionEncoders> LoadCollectionEncoders(const EncoderSpec& spec,
                                                          const std::string& models_dir) {
  CollectionEncoders encoders;
  EMBER_ASSIGN_OR_RETURN(encoders.document, LoadModel(spec.model, spec, models_dir));
  if (spec.query_model.empty() || spec.query_model == spec.model) {
    encoders.query = encoders.document;
    return encoders;
  }
  EMBER_ASSIGN_OR_RETURN(encoders.query, LoadModel(spec.query_model, spec, models_dir));
  if (encoders.query->dimension() != encoders.document->dimension()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query model \"", spec.query_model, "\" makes ", encoders.query->dimension(),
                     "-dimensional vectors, document model \"", spec.model, "\" ",
                     encoders.document->dimension(), ": they must embed into the same space"));
  }
  return encoders;
}

void RecordFingerprints(const CollectionEncoders& encoders, CollectionRecord& record) {
  record.document_fingerprint = encoders.document->fingerprint();
  record.query_fingerprint = encoders.query->fingerprint();
}

absl::Status CheckFingerprints(const CollectionRecord& record, const CollectionEncoders& encoders) {
  const EncoderSpec& spec = *record.spec.encoder;
  const auto check = [&](const char* role, const std::string& name, const std::string& recorded,
                         const embed::Encoder& loaded) -> absl::Status {
    if (loaded.fingerprint() == recorded) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "collection \"", record.spec.name, "\" was embedded with ", role, " model \"", name,
        "\" of fingerprint ", recorded, ", but \"", name, "\" now has fingerprint ",
        loaded.fingerprint(), " (", loaded.Describe(),
        "). Its vectors would not be comparable: restore that model, or move the collection to "
        "the new one with `ember DB reembed ",
        record.spec.name, " --model ...`"));
  };
  EMBER_RETURN_IF_ERROR(
      check("document", spec.model, record.document_fingerprint, *encoders.document));
  return check("query", spec.query_model.empty() ? spec.model : spec.query_model,
               record.query_fingerprint, *encoders.query);
}

}  // namespace ember::db
