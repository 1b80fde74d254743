// Readers for retrieval test collections in the BEIR layout: a corpus (`corpus.jsonl`), queries
// (`queries.jsonl`) and relevance judgements ("qrels": `qrels/<split>.tsv`, or `qrels.jsonl` as in
// LIMIT). Every function is stateless and safe to call from any thread.
//
// Errors are the same everywhere: NotFound when a file does not exist, PermissionDenied or Internal
// when it cannot be read, and InvalidArgument naming `path:line` and what is wrong for a malformed
// line. Blank lines (only spaces, tabs, '\r') are skipped in every format; "\r\n" line ends are
// accepted.
#ifndef EMBER_EVAL_BEIR_H_
#define EMBER_EVAL_BEIR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::eval {

// The judgements of one query: document id -> relevance grade. Grades <= 0 mean "judged not
// relevant" (they count as not relevant in every metric); a document absent from the map is
// not relevant either.
using QueryQrels = absl::flat_hash_map<std::string, int>;

// Query id -> its judgements. Ordered by query id, so that anything iterating it (per-query
// reports, sums for means) is deterministic.
using Qrels = std::map<std::string, QueryQrels>;

// One line of `queries.jsonl`.
struct Query {
  std::string id;    ///< "_id"
  std::string text;  ///< "text"
};

// One line of `corpus.jsonl`.
struct CorpusDocument {
  std::string id;     ///< "_id"
  std::string title;  ///< "title"; empty when the field is absent or null
  std::string text;   ///< "text"
  int64_t line = 0;   ///< 1-based line number in the file, for the caller's own error messages
};

// The text BEIR embeds for a document: `title + " " + text`, or just `text` when the title is empty
// (sentence-transformers' BEIR convention, without its final strip of surrounding spaces).
std::string DocumentText(const CorpusDocument& document);

// Reads `queries.jsonl`: one JSON object per line with a string "_id" (an integer is accepted and
// written in decimal) and a string "text"; other fields (e.g. "metadata") are ignored.
// Returns the queries in file order. InvalidArgument (naming path:line) for a line that is not a
// JSON object, lacks either field, or repeats an earlier "_id".
absl::StatusOr<std::vector<Query>> LoadQueries(const std::string& path);

// Reads relevance judgements, in either format, chosen by content: when the first non-blank line
// starts with '{' the file is JSON lines, otherwise tab-separated text.
//  - JSON lines: {"query-id": ..., "corpus-id": ..., "score": <integer>} per line (ids are strings,
//    or integers written in decimal).
//  - TSV (BEIR): `query-id<TAB>corpus-id<TAB>score`, with an optional first line that is exactly
//  the
//    header `query-id corpus-id score`. Ids may contain spaces. A line without any tab is split at
//    runs of spaces instead, and four fields are read as TREC qrels (`query-id 0 corpus-id score`).
// Scores must be integers (a leading '+' or '-' is allowed). A pair listed twice keeps its last
// grade. Queries whose grades are all <= 0 are kept (the metrics ignore them, see metrics.h).
// InvalidArgument (naming path:line) for a malformed line or an empty id.
absl::StatusOr<Qrels> LoadQrels(const std::string& path);

// Streams `corpus.jsonl`, calling `callback` once per document in file order, without holding the
// file in memory. Each line is a JSON object with a string "_id" (or integer), a string "text", and
// an optional string (or null) "title"; other fields are ignored. Duplicate ids are not detected
// here (that would need memory proportional to the corpus).
// Stops at the first error: InvalidArgument naming path:line for a malformed line, or the first
// non-OK status the callback returns, passed through unchanged. Documents before the error have
// already been delivered.
absl::Status ForEachCorpusDocument(const std::string& path,
                                   absl::FunctionRef<absl::Status(CorpusDocument&&)> callback);

// The files of a BEIR dataset folder: `corpus.jsonl`, `queries.jsonl`, and the qrels of one split.
struct BeirFiles {
  std::string corpus;
  std::string queries;
  std::string qrels;
};

// Locates the files of the BEIR dataset in `dir`. The qrels are `qrels/<split>.tsv` when it exists,
// otherwise `qrels.jsonl` (LIMIT's layout; then `split` is not used). NotFound naming the missing
// file(s) when the corpus, the queries or the qrels are absent.
absl::StatusOr<BeirFiles> FindBeirFiles(const std::string& dir, const std::string& split = "test");

}  // namespace ember::eval

#endif  // EMBER_EVAL_BEIR_H_
