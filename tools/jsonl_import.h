// `ember import`: loads a JSON-lines file into a collection in atomic batches, optionally cutting
// each document's text into chunks stored as documents of their own.
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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "embed/chunker.h"
#include "ember/collection.h"
#include "ember/document.h"

namespace ember::cli {

// How `import --chunk-tokens` cuts documents (see ChunkDocument).
struct ChunkingOptions {
  /// The token budget of a chunk's text and the overlap between neighbours (embed/chunker.h).
  embed::ChunkOptions chunk;
  /// Put the document's "title" attribute, and a line break, in front of each chunk's text, so
  /// that every chunk is embedded knowing what it is part of. The title's tokens come on top of
  /// chunk.max_tokens. Default: false.
  bool situated = false;
  /// Counts tokens as the collection's document model does. Required.
  embed::TokenCounter count_tokens;
};

// The attributes ChunkDocument gives each chunk: the parent's id, the chunk's position among its
// siblings, and its byte range in the parent's text.
inline constexpr char kParentIdAttribute[] = "parent_id";
inline constexpr char kChunkIndexAttribute[] = "chunk_index";
inline constexpr char kChunkBeginAttribute[] = "chunk_begin";
inline constexpr char kChunkEndAttribute[] = "chunk_end";

// Cuts `parent`'s text into chunks (embed::ChunkText) and returns one document per chunk, in
// order: id "<parent id>#<n>" (n from 0), text the chunk (with options.situated, title + "\n" +
// chunk, where the chunks then cover the text after the title when the text starts with it),
// attributes the parent's plus parent_id (string), chunk_index, chunk_begin and chunk_end (ints:
// byte offsets into the parent's text, so that text.substr(begin, end - begin) is the chunk).
// InvalidArgument for a parent with a vector (there is nothing to cut), without text or with only
// whitespace, with one of the four attributes already set, or whose chunk ids would be longer than
// kMaxDocumentIdBytes; and for invalid chunk options.
absl::StatusOr<std::vector<Document>> ChunkDocument(const Document& parent,
                                                    const ChunkingOptions& options);

struct ImportOptions {
  /// Documents per Upsert call: each batch is written atomically (and durably, unless the database
  /// was opened without sync_writes). Larger batches load faster and lose more work to one bad
  /// line. Default: 1000. Must be at least 1.
  int batch_size = 1000;
  /// Draw a progress bar on stderr. Default: true.
  bool show_progress = true;
  /// When set, each line's document is stored as its chunks (ChunkDocument), never itself; the
  /// chunks of one line always go into the same batch, which may then exceed batch_size.
  /// Default: none.
  std::optional<ChunkingOptions> chunking;
};

struct ImportReport {
  /// Documents (input lines) committed to the collection.
  int64_t imported = 0;
  /// Documents stored for them: `imported` without chunking, the number of chunks with it.
  int64_t stored = 0;
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
// format; on a collection with an encoder, lines may leave the vector out and have their text
// embedded by the database. A chunking error is reported as a bad line.
ImportReport ImportJsonLines(const std::string& path, Collection& collection,
                             const ImportOptions& options);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_JSONL_IMPORT_H_
