// Models from the Hugging Face hub. PullModel downloads the files an encoder needs into the
// standard Hugging Face cache, which huggingface_hub, transformers and sentence-transformers share;
// ResolveModel finds a pulled model there again without touching the network, so that
// LoadEncoder(*ResolveModel("sentence-transformers/all-MiniLM-L6-v2")) works offline.
//
// The cache ($HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub) holds, for each model:
//   models--ORG--NAME/blobs/<etag>               file contents, named by the hub's ETag (the
//   SHA-256
//                                                 of large LFS files, the git blob hash of others)
//   models--ORG--NAME/snapshots/<commit>/<path>  relative symbolic links to the blobs
//   models--ORG--NAME/refs/<revision>            the commit a branch or tag named when last pulled
//   .locks/models--ORG--NAME/<etag>.lock         locked (flock) while its blob downloads
//
// Thread-safety: stateless functions; concurrent pulls, from threads or processes (Ember's or
// huggingface_hub's), may share a cache: each blob is written under its lock and appears by an
// atomic rename.
#ifndef EMBER_EMBED_MODEL_HUB_H_
#define EMBER_EMBED_MODEL_HUB_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ember::embed {

// A model on the hub: ORG/NAME at a revision (a branch, a tag or a commit hash).
struct HubModelId {
  std::string org;
  std::string name;
  /// Branch, tag or commit hash. Default: "main".
  std::string revision = "main";

  // "ORG/NAME".
  std::string repo() const { return org + "/" + name; }
  // "ORG/NAME", with "@REVISION" when the revision is not "main".
  std::string ToString() const;
};

// Parses "ORG/NAME" or "ORG/NAME@REVISION". ORG and NAME follow the hub's rules: letters, digits,
// '-', '_' and '.', not starting or ending with '-' or '.', no "--" or "..", at most 96 characters.
// REVISION may hold '/' (as in "refs/pr/1") but no empty, "." or ".." part.
// InvalidArgument (naming the text) for anything else, such as "a/../b", "/abs/path" or "a/b/c".
absl::StatusOr<HubModelId> ParseHubModelId(std::string_view text);

// The hub cache folder, from the environment as described above (the folder may not exist).
std::string HubCacheDir();

// How far a file's download has come, for PullOptions::progress.
struct DownloadProgress {
  /// The file's path in the model, e.g. "model.safetensors".
  std::string_view path;
  /// Bytes on disk so far, counting a resumed partial download.
  int64_t bytes_done = 0;
  /// The file's size, or -1 when the hub did not say.
  int64_t bytes_total = -1;
};

struct PullOptions {
  /// The hub's base URL. Empty: $HF_ENDPOINT, else https://huggingface.co. Default: empty.
  std::string endpoint;
  /// Access token, sent as "Authorization: Bearer TOKEN" to the hub (never to the hosts it
  /// redirects to). Empty: $HF_TOKEN, else the file `huggingface-cli login` writes
  /// ($HF_TOKEN_PATH, else $HF_HOME/token), else no token. Default: empty.
  std::string token;
  /// The cache folder. Empty: HubCacheDir(). Default: empty.
  std::string cache_dir;
  /// Called on the pulling thread as each file's bytes arrive (once per received chunk, so it
  /// should be cheap); files already in the cache report nothing. Default: none.
  std::function<void(const DownloadProgress&)> progress;
  /// A transfer that receives nothing for this many seconds fails with Unavailable (its partial
  /// file is kept for the next pull to resume). Default: 60.
  int stall_timeout_seconds = 60;
};

// One file of a pulled model.
struct PulledFile {
  /// Path relative to the snapshot folder, e.g. "1_Pooling/config.json".
  std::string path;
  int64_t size = 0;
  /// True when this pull downloaded (or finished downloading) it; false when the cache had it.
  bool downloaded = false;
};

struct PullResult {
  HubModelId id;
  /// The commit the revision named: the snapshot's folder name.
  std::string commit;
  /// The folder to give LoadEncoder: <cache>/models--ORG--NAME/snapshots/<commit>.
  std::string snapshot_dir;
  /// The model's files, in the hub's order.
  std::vector<PulledFile> files;
};

// Downloads the files of `id` that an encoder needs into the cache and returns the snapshot.
//
// The file list comes from GET {endpoint}/api/models/ORG/NAME/revision/REV; when that answers 404
// (a mirror that only serves files), the files a sentence-transformers, model2vec or Ember static
// model may have are tried one by one and those that do not exist are skipped. Weights in formats
// the encoder cannot read (.bin, .h5, .onnx, .msgpack, ...; onnx/ and openvino/ folders) are left
// out when the model has .safetensors weights; Ember's static vectors.bin is always kept. Each file
// is fetched from {endpoint}/ORG/NAME/resolve/COMMIT/PATH, following redirects (large files live on
// a CDN). Files the cache already holds are not downloaded again; an interrupted download resumes
// from its partial file (blobs/<etag>.incomplete). refs/<revision> is written last, once every file
// is in place, so ResolveModel never returns a half-pulled snapshot by revision.
//
// Errors: InvalidArgument: the hub listed a file name that is empty, absolute or has a "." / ".."
// part, or sent an unusable commit or ETag (nothing is written outside the cache). NotFound: no
// such model or revision. PermissionDenied: HTTP 401 / 403 (the message says to set HF_TOKEN).
// Unavailable: the network failed (curl's message), the hub answered 429 or 5xx, the CDN refused
// its (expired) link, or a transfer stalled; the partial file is kept for the next pull. DataLoss:
// a file's size or SHA-256 differs from what the hub announced (the message names the file; its
// partial download is deleted). FailedPrecondition: the endpoint does not behave like a hub (no
// X-Repo-Commit or ETag header). Internal: the cache cannot be written. On error, files completed
// before it stay in the cache.
absl::StatusOr<PullResult> PullModel(const HubModelId& id, const PullOptions& options = {});

// The folder to load the model `name` from, without any network access:
// - an existing file or folder at `name`: `name` itself;
// - else, when `name` parses as ORG/NAME[@REVISION]: the snapshot folder of that model in the cache
//   (`cache_dir`, or HubCacheDir() when empty), found through refs/<revision> ("main" when none is
//   given) or, for a commit hash, snapshots/<hash> directly.
// NotFound otherwise; for a hub id, the message names the cache and says to run
// `ember model pull ORG/NAME[@REVISION]`.
absl::StatusOr<std::string> ResolveModel(std::string_view name, const std::string& cache_dir = "");

}  // namespace ember::embed

#endif  // EMBER_EMBED_MODEL_HUB_H_
