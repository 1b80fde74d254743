// `ember import`: loads a JSON-lines file into a collection in atomic batches.
//
// Each line is checked completely (JSON syntax, fields, dimension, finite components, an id not
// already in the batch) before it joins the batch, so a bad line is reported with its exact line
// number, and a batch containing one is never written. Batches before it stay committed: the report
// says how many documents that is.
//
// Thread-safety: ImportJsonLines may run concurrently with anything the Collection allows; one call
// reads its input from one thread.
#ifndef EMBER_TOOLS_JSONL_IMPORT_H_
#define EMBER_TOOLS_JSONL_IMPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "ember/collection.h"

namespace ember::cli {

struct ImportOptions {
  /// Documents per Upsert call: each batch is written atomically (and durably, unless the database
  /// was opened without sync_writes). Larger batches load faster and lose more work to one bad
  /// line. Default: 1000. Must be at least 1.
  int batch_size = 1000;
  /// Draw a progress bar on stderr. Default: true.
  bool show_progress = true;
};

struct ImportReport {
  /// Documents committed to the collection.
  int64_t imported = 0;
  /// Input lines read, blank lines included.
  int64_t lines_read = 0;
  /// When `status` is not OK and a batch was abandoned: the line its first document came from;
  /// everything before that line is committed, nothing from that line on. 0 otherwise.
  int64_t failed_batch_first_line = 0;
  /// Wall time of the import.
  double seconds = 0;
  /// OK, or why the import stopped. A bad line reads "FILE:LINE: reason" (InvalidArgument); an
  /// input that cannot be opened or read is NotFound / PermissionDenied / DataLoss naming the file;
  /// a store failure is the Upsert's status, its message prefixed by the file and line of the
  /// document it names (or the batch's line range).
  absl::Status status;
};

// Reads JSON lines from `path` ("-" for standard input) into `collection`. Blank lines are skipped;
// a UTF-8 byte-order mark and Windows line ends are accepted. See document_json.h for the line
// format.
ImportReport ImportJsonLines(const std::string& path, Collection& collection,
                             const ImportOptions& options);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_JSONL_IMPORT_H_
