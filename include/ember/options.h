// Options: what a database is opened with, and what a collection is created with.
// Every field documents its default; ValidateCollectionSpec() is the one place that checks a spec.
#ifndef EMBER_OPTIONS_H_
#define EMBER_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember {

// How vectors are compared. Scores are always "higher is better"; distances are the metric's own.
// Stored in the catalog: do not renumber.
enum class Metric : uint8_t {
  /// Cosine similarity. Vectors are normalized on insert and query; score = cosine, distance = 1 -
  /// cosine.
  kCosine = 0,
  /// Inner product. score = distance = <q, v>.
  kInnerProduct = 1,
  /// Euclidean. distance = squared L2 distance, score = -distance.
  kL2 = 2,
};

// Which vector index serves a collection's searches. Stored in the catalog: do not renumber.
enum class IndexKind : uint8_t {
  /// Exact search over all vectors. Best below ~50,000 vectors or when exactness is required.
  kFlat = 0,
  /// Hierarchical navigable small world graph: fast approximate search, high recall.
  kHnsw = 1,
  /// Inverted file with flat codes: trains its coarse quantizer once the collection holds enough
  /// vectors
  /// (IvfParams::nlist * 39); searches are exact until then.
  kIvf = 2,
};

struct HnswParams {
  /// Neighbours per node per layer (level 0 has 2*M). Larger: better recall, more memory, slower
  /// inserts. Default: 32. Range: 2..256.
  int m = 32;
  /// Candidate list size while inserting. Default: 200. Range: 1..4096 (and at least m).
  int ef_construction = 200;
  /// Candidate list size while searching, unless a query overrides it. Default: 64.
  /// Range: 1..32768.
  int ef_search = 64;
};

struct IvfParams {
  /// Number of inverted lists (k-means centroids). Default: 1024. Range: 1..1,048,576.
  int nlist = 1024;
  /// Lists visited per query, unless a query overrides it. Default: 32. Range: 1..nlist.
  int nprobe = 32;
};

struct IndexSpec {
  /// Default: HNSW.
  IndexKind kind = IndexKind::kHnsw;
  /// Used when kind == kHnsw.
  HnswParams hnsw;
  /// Used when kind == kIvf.
  IvfParams ivf;
};

// The type of a declared attribute. Stored in the catalog: do not renumber.
enum class AttributeType : uint8_t {
  kBool = 1,
  /// int64. Filters may compare it with double literals.
  kInt = 2,
  /// double. Documents may give int values; filters may compare it with int literals.
  kDouble = 3,
  kString = 4,
  /// A list of strings (tags), filtered with CONTAINS / CONTAINS ANY / CONTAINS ALL.
  kStringList = 5,
};

// An attribute declared in a collection's schema. Every document's value for it must be of its type
// or null (absent).
struct AttributeSpec {
  /// 1 to 256 bytes of UTF-8.
  std::string name;
  AttributeType type = AttributeType::kString;
  /// Keep an index of the attribute's values (a bitmap of documents per value, ordered for ranges),
  /// so that filters on it are answered without reading documents. Default: true.
  bool indexed = true;
};

// The models that turn a collection's texts into vectors inside the process.
//
// A model is named by a folder (a sentence-transformers / Hugging Face model, or a static
// word-vector model), by a Hugging Face hub id "ORG/NAME[@REVISION]" already in the local Hugging
// Face cache (`ember model pull` puts it there; nothing is downloaded when a collection opens), or
// by "default": the folder `default` under DatabaseOptions::models_dir.
//
// The catalog records each model's fingerprint (a digest of its weights, tokenizer and settings).
// A collection opens only while its models still have those fingerprints, so that vectors from two
// different models are never mixed; Database::ReembedCollection moves a collection to new models.
struct EncoderSpec {
  /// The model that embeds documents (Collection::Upsert of a document with text and no vector).
  /// Required.
  std::string model;
  /// The model that embeds query texts, when it is another one: it must produce vectors in the same
  /// space and of the same dimension (a small model aligned with a large one, as LEAF does).
  /// Default: empty, queries use `model`.
  std::string query_model;
  /// Prompts prepended to query / document texts, overriding the model's own
  /// (config_sentence_transformers.json: e5's "query: ", bge's instruction). Default: the model's.
  std::optional<std::string> query_prompt;
  std::optional<std::string> document_prompt;
  /// Matryoshka truncation: keep the first truncate_dim components of each embedding, then
  /// re-normalize. 0: the model's full dimension. Default: 0.
  int truncate_dim = 0;

  friend bool operator==(const EncoderSpec&, const EncoderSpec&) = default;
};

// The folder a model name stands for, as collections resolve EncoderSpec's names, without network:
// an existing folder is itself; a bare name ("default") is that folder under `models_dir` (or
// $EMBER_MODELS_DIR when `models_dir` is empty); anything else is an existing file, or a hub id
// ORG/NAME[@REVISION] in the local Hugging Face cache. NotFound saying what to do otherwise.
absl::StatusOr<std::string> ResolveModelFolder(const std::string& name,
                                               const std::string& models_dir);

// A collection's full-text index: BM25 over each document's text (and chosen attributes), for
// SearchMode::kText and kHybrid. Words are found the way Lucene's StandardTokenizer finds them
// (Unicode word boundaries, NFKC, case folded, English possessives removed), stop words dropped,
// and the rest stemmed. The analysis is fixed at creation: terms stored one way cannot be searched
// another way.
struct FullTextSpec {
  /// Keep the index. Default: false.
  bool enabled = false;
  /// Declared attributes of type string or list whose values are indexed as more words of the
  /// document, e.g. a title or tags. Default: none.
  std::vector<std::string> attributes;
  /// The Snowball stemmer libstemmer applies to every word: "porter", "english" (Porter2),
  /// "french", "german", ..., or "none". Default: "porter" (Lucene's and Anserini's English).
  std::string stemmer = "porter";
  /// Drop Lucene's 33 English stop words ("a", "the", "of", ...). Default: true.
  bool remove_stop_words = true;
  /// BM25's term-frequency saturation (k1 >= 0) and length normalization (b in [0, 1]). Scoring
  /// reads them at query time, so they are the one part of the spec that does not shape what is
  /// stored. Defaults: 0.9 and 0.4 (Anserini's BEIR baselines).
  double k1 = 0.9;
  double b = 0.4;

  friend bool operator==(const FullTextSpec&, const FullTextSpec&) = default;
};

// Everything that defines a collection. Fixed at creation (the encoder, and with it the dimension,
// changes only through Database::ReembedCollection).
struct CollectionSpec {
  /// 1 to 128 characters of [A-Za-z0-9_.-], not starting with '.'.
  std::string name;
  /// Number of components of every vector. Range: 1..65,536. With an encoder, 0 means the
  /// model's dimension (after truncate_dim); any other value must equal it. Without an encoder, 0
  /// makes a text-only collection: full_text must be enabled, documents carry text and no vector,
  /// and searches run in SearchMode::kText.
  int dimension = 0;
  /// Default: cosine.
  Metric metric = Metric::kCosine;
  IndexSpec index;
  /// Declared attributes: type-checked on every upsert, and indexed for filtering unless declared
  /// otherwise. Attributes not declared are stored, returned, and filterable by reading each
  /// candidate document (slower). Names must be unique. Default: none.
  std::vector<AttributeSpec> attributes;
  /// Embeds texts on Upsert and Search. Default: none (callers supply vectors).
  std::optional<EncoderSpec> encoder;
  /// The full-text (BM25) index. Default: none.
  FullTextSpec full_text;
};

// Names used by the catalog and the command line: "cosine", "ip", "l2"; "flat", "hnsw", "ivf".
const char* MetricName(Metric metric);
const char* IndexKindName(IndexKind kind);
// "bool", "int", "double", "string", "list".
const char* AttributeTypeName(AttributeType type);
// InvalidArgument listing the accepted names when `name` is none of them.
absl::StatusOr<Metric> ParseMetric(std::string_view name);
absl::StatusOr<IndexKind> ParseIndexKind(std::string_view name);
absl::StatusOr<AttributeType> ParseAttributeType(std::string_view name);

// Returns OK, or InvalidArgument naming the first offending field ("hnsw.m must be in [2, 256], got
// 0").
absl::Status ValidateCollectionSpec(const CollectionSpec& spec);

// How a database folder is opened.
struct DatabaseOptions {
  /// Create the folder (and its parents) when it does not exist. Default: true.
  bool create_if_missing = true;
  /// Open without writing anything: writes fail with FailedPrecondition, and any number of
  /// read-only handles may coexist with each other and with one writer (they see the data as of
  /// opening). Default: false.
  bool read_only = false;
  /// Acknowledged means durable: each Upsert/Delete syncs the write-ahead log before returning.
  /// Turning it off speeds bulk loads; a power loss may then drop the latest acknowledged writes
  /// (never half a batch, and a process crash alone loses nothing). Default: true.
  bool sync_writes = true;
  /// Where the model name "default" (and any other bare name that is not a folder) is looked up:
  /// `<models_dir>/<name>`. Empty: the EMBER_MODELS_DIR environment variable. Default: empty.
  std::string models_dir;
};

}  // namespace ember

#endif  // EMBER_OPTIONS_H_
