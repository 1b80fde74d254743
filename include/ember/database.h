// The Database: a folder on local disk holding named collections.
//
//   EMBER_ASSIGN_OR_RETURN(auto db, ember::Database::Open("notes.ember"));
//   EMBER_ASSIGN_OR_RETURN(auto notes, db->CreateCollection({.name = "notes", .dimension = 384}));
//   EMBER_RETURN_IF_ERROR(notes->Upsert(documents));
//   EMBER_ASSIGN_OR_RETURN(auto response, notes->Search({.vector = query, .k = 10}));
#ifndef EMBER_DATABASE_H_
#define EMBER_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/collection.h"
#include "ember/options.h"

namespace ember {

// How Database::ReembedCollection runs.
struct ReembedOptions {
  /// Documents embedded per call of the document model (the model itself runs them in forward
  /// passes of its own batch size), and written to the store per batch: bounds the memory held at
  /// once besides the new index. Range: >= 1. Default: 256.
  int batch_size = 256;
  /// Called with the number of documents embedded so far and the total: once with done = 0 before
  /// the first batch, then after each batch. Runs on the calling thread while the collection's
  /// writers are held off: it must not write to this collection nor call Checkpoint (either would
  /// wait forever); it may search it. Default: none.
  std::function<void(int64_t done, int64_t total)> progress;
};

// A Database is safe for concurrent use by any number of threads without external synchronization.
// One process at a time may open a folder for writing; read-only handles may coexist with it.
// Destroying the Database saves index snapshots (so the next Open need not replay changes) and
// closes the folder; Collections obtained from it must not be used afterwards.
class Database {
 public:
  // Opens the database in folder `path`, creating it when missing and options.create_if_missing.
  // Errors: NotFound (missing and !create_if_missing, or read_only), Unavailable (another process
  // has the folder open for writing: retry later or open read-only), FailedPrecondition (the folder
  // exists but is not an Ember database, or was written by a newer format version), DataLoss (the
  // store is corrupt). Indexes whose snapshot is missing or corrupt are rebuilt from the stored
  // vectors during Open.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                        const DatabaseOptions& options = {});

  virtual ~Database() = default;

  // Creates an empty collection. InvalidArgument when the spec is invalid (see
  // ValidateCollectionSpec), AlreadyExists when the name is taken, FailedPrecondition on a
  // read-only database.
  virtual absl::StatusOr<std::shared_ptr<Collection>> CreateCollection(
      const CollectionSpec& spec) = 0;

  // NotFound when there is no collection of that name. With an encoder, its models are loaded on
  // first use: FailedPrecondition, naming both fingerprints, when a model is no longer the one
  // the stored vectors came from (ReembedCollection moves the collection to it); the errors of
  // loading a model (NotFound, InvalidArgument, Unimplemented) when it cannot be loaded.
  virtual absl::StatusOr<std::shared_ptr<Collection>> GetCollection(
      const std::string& name) const = 0;

  // The specs of all collections, ordered by name.
  virtual std::vector<CollectionSpec> ListCollections() const = 0;

  // Deletes a collection and all its documents. Handles to it held elsewhere start returning
  // NotFound. NotFound when there is no such collection, FailedPrecondition on a read-only
  // database.
  virtual absl::Status DropCollection(const std::string& name) = 0;

  // Moves collection `name` to the models `encoder` names: embeds every stored document's text
  // with the new document model into a new index and new stored vectors, then swaps them in
  // together with the new encoder spec, dimension (the new model's, after truncate_dim: it may
  // differ from the old one) and model fingerprints. Documents keep their ids, texts and
  // attributes. This is how a collection that GetCollection refuses because its model changed is
  // repaired, and it also gives an encoder to a collection that had none (when every document has a
  // text).
  //
  // Atomic: until the swap, the old models, vectors and index stay in force; after it, the new
  // ones; a crash at any instant leaves one or the other entirely, never a mix (the new vectors
  // are written aside first, and a crash before the swap discards them on the next Open).
  // Concurrency: searches and Gets go on with the old index and models while documents are
  // embedded, and see the new ones from the swap on; a text search or Upsert whose text was
  // embedded with the old model just before the swap is embedded again with the new one. Upserts
  // and Deletes of this collection (and Checkpoint) wait until the reembed returns. Handles of
  // the collection obtained before keep working, with the new models. Memory: the new index is
  // built while the old one serves, so about twice the index's memory at the peak.
  //
  // Errors (nothing changed in each case): NotFound (no such collection, or a model is not
  // found), InvalidArgument (an invalid `encoder` or options.batch_size, a model folder that is
  // malformed, query and document models of different dimensions, truncate_dim above the model's
  // dimension), Unimplemented (a model architecture Ember does not support), FailedPrecondition (a
  // read-only database, or a document without a text, named: give it a text or delete it first),
  // DataLoss / Internal if the store fails (should the swap's own write fail, the next Open finds
  // whichever of the two states the store kept).
  virtual absl::Status ReembedCollection(const std::string& name, const EncoderSpec& encoder,
                                         const ReembedOptions& options = {}) = 0;

  // Saves a snapshot of every index whose contents changed since its last snapshot, so the next
  // Open loads it instead of replaying changes. Safe to call at any time; not needed for
  // durability. Waits for writes (and a reembed) in progress on each collection.
  virtual absl::Status Checkpoint() = 0;

  // The folder this database was opened from.
  virtual const std::string& path() const = 0;
};

}  // namespace ember

#endif  // EMBER_DATABASE_H_
