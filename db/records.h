// How db/ lays out its records in the store: keys per column family, and the binary encodings of
// documents, vectors, change-log entries and per-collection counters. All of it is on-disk format.
#ifndef EMBER_DB_RECORDS_H_
#define EMBER_DB_RECORDS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ember/document.h"

namespace ember::db {

using CollectionId = uint32_t;
using Label = int64_t;

// Catalog keys.
inline constexpr std::string_view kFormatVersionKey = "format_version";
inline constexpr std::string_view kNextCollectionIdKey = "next_collection_id";
std::string CollectionCatalogKey(std::string_view name);  // -> collection JSON record
inline constexpr char kCollectionCatalogPrefix[] = "collection/";
std::string CountersKey(CollectionId collection);  // -> CollectionCounters

// Keys of the per-collection column families; every one starts with CollectionPrefix(collection).
std::string CollectionPrefix(CollectionId collection);
std::string DocumentKey(CollectionId collection, Label label);      // documents: -> document record
std::string VectorKey(CollectionId collection, Label label);        // vectors: -> float32 vector
std::string TermsKey(CollectionId collection, Label label);         // terms: -> text::TermFrequencies
std::string IdKey(CollectionId collection, std::string_view id);    // ids: -> label (8 bytes)
std::string ChangeKey(CollectionId collection, uint64_t sequence);  // changelog: -> ChangeRecord

// The label at the end of a DocumentKey / VectorKey, or the sequence at the end of a ChangeKey.
bool DecodeKeySuffix(std::string_view key, uint64_t* value);

// A document as stored: id, text and attributes (the vector is stored separately).
std::string EncodeDocument(const Document& document);
absl::StatusOr<Document> DecodeDocument(std::string_view record);

std::string EncodeVector(std::span<const float> vector);
// DataLoss unless `record` holds exactly `dimension` floats.
absl::Status DecodeVector(std::string_view record, int dimension, std::vector<float>* out);

std::string EncodeLabel(Label label);
absl::StatusOr<Label> DecodeLabel(std::string_view record);

// One entry of the change log: what an index must apply to catch up.
// Stored: do not renumber.
enum class ChangeOp : uint8_t { kUpsert = 1, kDelete = 2 };
struct ChangeRecord {
  ChangeOp op;
  Label label;
};
std::string EncodeChange(const ChangeRecord& change);
absl::StatusOr<ChangeRecord> DecodeChange(std::string_view record);

// Per-collection counters, rewritten by every write batch of the collection.
struct CollectionCounters {
  /// The next label to hand out; labels are never reused.
  uint64_t next_label = 0;
  /// The sequence number of the last change-log entry written (0: none yet).
  uint64_t last_sequence = 0;
  /// Documents stored.
  uint64_t document_count = 0;
  /// Change-log entries up to this sequence have been deleted (they are covered by a snapshot).
  uint64_t truncated_through = 0;
};
std::string EncodeCounters(const CollectionCounters& counters);
absl::StatusOr<CollectionCounters> DecodeCounters(std::string_view record);

}  // namespace ember::db

#endif  // EMBER_DB_RECORDS_H_
