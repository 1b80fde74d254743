// A collection: documents with vectors of one dimension, served by one vector index.
#ifndef EMBER_COLLECTION_H_
#define EMBER_COLLECTION_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/document.h"
#include "ember/options.h"
#include "ember/search.h"

namespace ember {

// A Collection is obtained from a Database and stays usable as long as the Database is open and the
// collection is not dropped; after a drop every call returns NotFound.
//
// Thread-safety: all methods may be called concurrently from any number of threads. Searches run
// concurrently with each other; a search sees each Upsert or Delete call entirely or not at all.
// A handle stays valid across Database::ReembedCollection: each call runs entirely with the models
// (and dimension) before it or entirely with those after it.
class Collection {
 public:
  virtual ~Collection() = default;

  // The collection's spec: the one it was created with, except for the encoder and dimension,
  // which Database::ReembedCollection replaces. A copy, since a reembed may replace it at any time.
  virtual CollectionSpec spec() const = 0;

  // Inserts the documents, replacing any stored document with the same id. All or nothing: the
  // batch is validated first, and one invalid document changes nothing and returns InvalidArgument
  // naming the document (by id and position) and the reason: empty or over-long id, the same id
  // twice in the batch, a vector of the wrong dimension, a NaN or infinite component. When OK is
  // returned the whole batch is durable (with DatabaseOptions::sync_writes) and visible to
  // searches. FailedPrecondition on a read-only database; DataLoss or Internal if the store fails
  // (nothing applied).
  virtual absl::Status Upsert(std::span<const Document> documents) = 0;

  // Returns one entry per id, in order: the stored document, or nullopt when there is none.
  // InvalidArgument for an empty or over-long id.
  virtual absl::StatusOr<std::vector<std::optional<Document>>> Get(
      std::span<const std::string> ids) const = 0;

  // Deletes the documents with these ids, all or nothing, and returns how many existed. Ids not
  // present are ignored. Deleted documents stop appearing in searches when this returns.
  // InvalidArgument for an empty or over-long id; FailedPrecondition on a read-only database.
  virtual absl::StatusOr<int64_t> Delete(std::span<const std::string> ids) = 0;

  // Number of documents stored.
  virtual int64_t Count() const = 0;

  // Nearest documents to request.vector, best first. Returns min(k, Count()) hits.
  // InvalidArgument: wrong dimension, non-finite component, k outside 1..kMaxSearchK, negative
  // ef_search or nprobe.
  virtual absl::StatusOr<SearchResponse> Search(const SearchRequest& request) const = 0;

  virtual CollectionStats Stats() const = 0;
};

}  // namespace ember

#endif  // EMBER_COLLECTION_H_
