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
};

std::string EncodeCollectionRecord(const CollectionRecord& record);
// DataLoss when the record is not what EncodeCollectionRecord writes (or its spec is invalid).
absl::StatusOr<CollectionRecord> DecodeCollectionRecord(std::string_view json);

}  // namespace ember::db

#endif  // EMBER_DB_CATALOG_H_
