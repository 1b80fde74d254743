// The catalog's record of one collection: its id and spec, stored as JSON in the catalog column
// family.
#ifndef EMBER_DB_CATALOG_H_
#define EMBER_DB_CATALOG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "db/records.h"
#include "ember/options.h"

namespace ember::db {

struct CollectionRecord {
  CollectionId id = 0;
  CollectionSpec spec;
  /// With spec.encoder: the fingerprints of the document and query models the stored vectors came
  /// from (equal when queries use the document model).
  std::string document_fingerprint;
  std::string query_fingerprint;
  /// With spec.full_text enabled: the fingerprint of the analyzer that made the stored terms
  /// (text::Analyzer::fingerprint). Should this build's analyzer for the same spec differ (a new
  /// Unicode version, say), the collection re-analyzes its documents when it opens.
  std::string analyzer_fingerprint;
  /// The id whose key range of the vectors column family holds the collection's vectors; 0 stands
  /// for `id`. A reembed writes the new vectors under a freshly allocated id, batch by batch while
  /// the old ones stay in force, so that the swap itself is one small batch (this record, a range
  /// deletion of the old vectors) instead of one holding every vector.
  CollectionId vectors_id = 0;

  CollectionId VectorsId() const { return vectors_id != 0 ? vectors_id : id; }
};

std::string EncodeCollectionRecord(const CollectionRecord& record);
// DataLoss when the record is not what EncodeCollectionRecord writes (or its spec is invalid).
absl::StatusOr<CollectionRecord> DecodeCollectionRecord(std::string_view json);

// The catalog entry of a reembed in progress: StagedVectorsKey(vectors id) -> the collection id, in
// the store from the reembed's first batch of new vectors until the batch that swaps them in (which
// deletes it). One found when a database opens is what a crash or a failure left: its vectors
// belong to no collection and are deleted.
inline constexpr char kStagedVectorsPrefix[] = "staged_vectors/";
std::string StagedVectorsKey(CollectionId vectors_id);
// The vectors id of a StagedVectorsKey; false when `key` is not one.
bool DecodeStagedVectorsKey(std::string_view key, CollectionId* vectors_id);

}  // namespace ember::db

#endif  // EMBER_DB_CATALOG_H_
