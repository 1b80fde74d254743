// The Database: a folder on local disk holding named collections.
//
//   EMBER_ASSIGN_OR_RETURN(auto db, ember::Database::Open("notes.ember"));
//   EMBER_ASSIGN_OR_RETURN(auto notes, db->CreateCollection({.name = "notes", .dimension = 384}));
//   EMBER_RETURN_IF_ERROR(notes->Upsert(documents));
//   EMBER_ASSIGN_OR_RETURN(auto response, notes->Search({.vector = query, .k = 10}));
#ifndef EMBER_DATABASE_H_
#define EMBER_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/collection.h"
#include "ember/options.h"

namespace ember {

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

  // NotFound when there is no collection of that name.
  virtual absl::StatusOr<std::shared_ptr<Collection>> GetCollection(
      const std::string& name) const = 0;

  // The specs of all collections, ordered by name.
  virtual std::vector<CollectionSpec> ListCollections() const = 0;

  // Deletes a collection and all its documents. Handles to it held elsewhere start returning
  // NotFound. NotFound when there is no such collection, FailedPrecondition on a read-only
  // database.
  virtual absl::Status DropCollection(const std::string& name) = 0;

  // Saves a snapshot of every index whose contents changed since its last snapshot, so the next
  // Open loads it instead of replaying changes. Safe to call at any time; not needed for
  // durability.
  virtual absl::Status Checkpoint() = 0;

  // The folder this database was opened from.
  virtual const std::string& path() const = 0;
};

}  // namespace ember

#endif  // EMBER_DATABASE_H_
