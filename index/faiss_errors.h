// Turns exceptions thrown by FAISS (and the standard library underneath it) into absl::Status, so
// that no exception leaves index/. Only index/*.cc include this header.
//
// Thread-safety: stateless.
#ifndef EMBER_INDEX_FAISS_ERRORS_H_
#define EMBER_INDEX_FAISS_ERRORS_H_

#include <faiss/impl/FaissException.h>

#include <exception>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace ember::index {

// Runs `body` (a callable returning void) and maps what it throws: std::bad_alloc ->
// ResourceExhausted, anything else -> Internal, each message prefixed with `operation` ("HNSW add:
// ...").
template <typename Body>
absl::Status CatchFaissExceptions(absl::string_view operation, Body&& body) {
  try {
    body();
    return absl::OkStatus();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(operation, ": out of memory"));
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat(operation, ": FAISS: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(operation, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(operation, ": unknown exception"));
  }
}

}  // namespace ember::index

#endif  // EMBER_INDEX_FAISS_ERRORS_H_
