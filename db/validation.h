// Checks of user input at the API boundary: every rejection is InvalidArgument naming what is
// wrong.
#ifndef EMBER_DB_VALIDATION_H_
#define EMBER_DB_VALIDATION_H_

#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "ember/document.h"
#include "ember/options.h"
#include "ember/search.h"

namespace ember::db {

// Non-empty, at most kMaxDocumentIdBytes, valid UTF-8.
absl::Status ValidateDocumentId(std::string_view id);

// Validates a whole batch before anything is written: ids (and their uniqueness within the batch),
// vectors (dimension, finite components), attributes (non-empty names, finite doubles, the declared
// types). The error names the document's position and id.
absl::Status ValidateDocuments(std::span<const Document> documents, const CollectionSpec& spec);

// `what` names the vector in the message ("query vector").
absl::Status ValidateVector(std::span<const float> vector, int dimension, std::string_view what);

// The request's own fields (k, ef_search, nprobe, fusion). The query vector is checked against the
// collection's dimension when the vector side runs.
absl::Status ValidateSearchRequest(const SearchRequest& request);

}  // namespace ember::db

#endif  // EMBER_DB_VALIDATION_H_
