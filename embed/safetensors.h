// A reader for Hugging Face safetensors files: an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw tensor data.
//
// The file is memory-mapped; every header entry is validated against the file size when the file is
// opened, so reading a tensor afterwards can never touch bytes outside the mapping. Floating-point
// tensors (F32, F16, BF16) are converted to float32 when read. Other dtypes (e.g. the I64
// `embeddings.position_ids` that real BERT files carry) are accepted in the header and simply never
// read.
//
// Thread-safety: immutable after Open; all methods may be called concurrently.
#ifndef EMBER_EMBED_SAFETENSORS_H_
#define EMBER_EMBED_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::embed {

class SafetensorsFile {
 public:
  // One header entry. `begin`/`end` are byte offsets into the data section, already validated.
  struct Tensor {
    std::string dtype;  // as spelled in the header: "F32", "F16", "BF16", "I64", ...
    std::vector<int64_t> shape;
    size_t begin = 0;
    size_t end = 0;
  };

  // Maps and validates the file at `path`.
  // NotFound: no such file. InvalidArgument (message names the file and, where it applies, the
  // tensor): shorter than its header says (truncated), a header that is not a JSON object of tensor
  // entries, a negative or overflowing shape, offsets outside the data section, or a byte range
  // whose size does not match dtype and shape. Internal: the file exists but cannot be read or
  // mapped.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // The entry for `name`, also found when the file spells it with a "bert." prefix; nullptr if
  // absent.
  const Tensor* Find(std::string_view name) const;

  // Reads tensor `name` (see Find) as float32, checking that its shape is exactly `shape`.
  // NotFound: no such tensor. InvalidArgument: a different shape. Unimplemented: a dtype other than
  // F32, F16, BF16. Every message names the file and the tensor.
  absl::StatusOr<std::vector<float>> ReadFloat(std::string_view name,
                                               std::span<const int64_t> shape) const;

  // A 64-bit digest of the whole file's bytes, computed once at Open: equal files give equal
  // hashes, on every machine and in every process.
  uint64_t content_hash() const { return content_hash_; }
  const std::string& path() const { return path_; }
  const std::map<std::string, Tensor, std::less<>>& tensors() const { return tensors_; }

 private:
  SafetensorsFile(std::string path, const uint8_t* mapping, size_t size)
      : path_(std::move(path)), mapping_(mapping), size_(size) {}
  absl::Status ParseHeader();

  std::string path_;
  const uint8_t* mapping_;  // the whole file, read-only
  size_t size_;
  const uint8_t* data_ = nullptr;  // start of the data section inside mapping_
  size_t data_size_ = 0;
  uint64_t content_hash_ = 0;
  std::map<std::string, Tensor, std::less<>> tensors_;
};

// Converts IEEE half and bfloat16 bit patterns to float32 (exact: both widen without rounding).
float HalfToFloat(uint16_t bits);
float Bfloat16ToFloat(uint16_t bits);

}  // namespace ember::embed

#endif  // EMBER_EMBED_SAFETENSORS_H_
