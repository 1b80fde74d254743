// The models of a collection with an encoder: resolving their names, loading them, and checking
// them against the fingerprints the catalog recorded.
#ifndef EMBER_DB_ENCODERS_H_
#define EMBER_DB_ENCODERS_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "db/catalog.h"
#include "embed/encoder.h"
#include "ember/options.h"

namespace ember::db {

// Immutable once loaded; shared by every caller of the collection.
struct CollectionEncoders {
  std::shared_ptr<const embed::Encoder> document;
  // The document model itself when the spec names no query model.
  std::shared_ptr<const embed::Encoder> query;

  // Embeds texts as documents / queries: texts.size() * dimension floats, row-major.
  absl::StatusOr<std::vector<float>> EmbedDocuments(std::span<const std::string> texts) const;
  absl::StatusOr<std::vector<float>> EmbedQuery(const std::string& text) const;
};

// Loads the models `spec` names. InvalidArgument when the query model's dimension differs from the
// document model's, or truncate_dim exceeds it; NotFound / InvalidArgument / Unimplemented from
// loading (embed::LoadEncoder), prefixed with the model's name.
absl::StatusOr<CollectionEncoders> LoadCollectionEncoders(const EncoderSpec& spec,
                                                          const std::string& models_dir);

// Writes the fingerprints of `encoders` into `record` (what CheckFingerprints later compares).
void RecordFingerprints(const CollectionEncoders& encoders, CollectionRecord& record);

// OK when `encoders` are the models `record` was built with; FailedPrecondition naming the model,
// both fingerprints and the way out otherwise.
absl::Status CheckFingerprints(const CollectionRecord& record, const CollectionEncoders& encoders);

}  // namespace ember::db

#endif  // EMBER_DB_ENCODERS_H_
