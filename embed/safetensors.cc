#include "embed/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "embed/content_hash.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"

namespace ember::embed {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and read in place");

// Bytes per element of the dtypes a header may name; 0 for dtypes Ember does not know.
size_t DtypeSize(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" ||
      dtype == "F8_E5M2") {
    return 1;
  }
  return 0;
}

std::string ShapeString(std::span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  uint32_t result;
  if (exponent == 0x1F) {
    result = sign | 0x7F800000u | (mantissa << 13);  // infinity or NaN
  } else if (exponent != 0) {
    result = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    result = sign;
  } else {  // subnormal half: normalize into a float32 exponent
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    result = sign | static_cast<uint32_t>(113 - shift) << 23 | ((mantissa & 0x3FF) << 13);
  }
  return std::bit_cast<float>(result);
}

float Bfloat16ToFloat(uint16_t bits) {
  return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16);
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::InternalError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat(path, ": cannot stat: ", std::strerror(error)));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated safetensors file (", size, " bytes, no header length)"));
  }
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int error = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (mapping == MAP_FAILED) {
    return absl::InternalError(absl::StrCat(path, ": cannot map: ", std::strerror(error)));
  }
  std::unique_ptr<SafetensorsFile> file(
      new SafetensorsFile(path, static_cast<const uint8_t*>(mapping), size));
  EMBER_RETURN_IF_ERROR(file->ParseHeader());
  ContentHasher hasher;
  hasher.Update(file->mapping_, file->size_);
  file->content_hash_ = hasher.Digest();
  return file;
}

SafetensorsFile::~SafetensorsFile() { ::munmap(const_cast<uint8_t*>(mapping_), size_); }

absl::Status SafetensorsFile::ParseHeader() {
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | mapping_[i];
  if (header_length > size_ - 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": truncated safetensors file: header of ", header_length,
                     " bytes but only ", size_ - 8, " follow"));
  }
  data_ = mapping_ + 8 + header_length;
  data_size_ = size_ - 8 - header_length;
  const std::string_view text(reinterpret_cast<const char*>(mapping_ + 8), header_length);
  nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": safetensors header is not a JSON object"));
  }
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const auto invalid = [&](const std::string& what) {
      return absl::InvalidArgumentError(
          absl::StrCat(path_, ": tensor '", name, "' has ", what, " in the safetensors header"));
    };
    if (!entry.is_object()) return invalid("an entry that is not an object");
    const auto dtype = entry.find("dtype");
    const auto shape = entry.find("shape");
    const auto offsets = entry.find("data_offsets");
    if (dtype == entry.end() || !dtype->is_string()) return invalid("no dtype");
    if (shape == entry.end() || !shape->is_array()) return invalid("no shape");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
      return invalid("no valid data_offsets");
    }
    Tensor tensor;
    tensor.dtype = dtype->get<std::string>();
    const size_t element_size = DtypeSize(tensor.dtype);
    if (element_size == 0) return invalid(absl::StrCat("unknown dtype ", tensor.dtype));
    // Elements counted in unsigned 64-bit with an explicit overflow check against the file size.
    uint64_t elements = 1;
    for (const auto& dim : *shape) {
      if (!dim.is_number_integer() || dim.get<int64_t>() < 0)
        return invalid("a negative dimension");
      const uint64_t extent = dim.get<uint64_t>();
      if (extent != 0 && elements > std::numeric_limits<uint64_t>::max() / extent) {
        return invalid("an overflowing shape");
      }
      elements *= extent;
      tensor.shape.push_back(static_cast<int64_t>(extent));
    }
    const uint64_t begin = (*offsets)[0].get<uint64_t>();
    const uint64_t end = (*offsets)[1].get<uint64_t>();
    if (begin > end || end > data_size_) {
      return invalid(absl::StrCat("data_offsets [", begin, ", ", end,
                                  "] outside the data section (truncated file?) of ", data_size_,
                                  " bytes"));
    }
    if (elements > (end - begin) / element_size || elements * element_size != end - begin) {
      return invalid(absl::StrCat(end - begin, " bytes for shape ", ShapeString(tensor.shape),
                                  " of ", tensor.dtype));
    }
    tensor.begin = begin;
    tensor.end = end;
    tensors_.emplace(name, std::move(tensor));
  }
  return absl::OkStatus();
}

const SafetensorsFile::Tensor* SafetensorsFile::Find(std::string_view name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) it = tensors_.find(std::string("bert.").append(name));
  return it == tensors_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::vector<float>> SafetensorsFile::ReadFloat(
    std::string_view name, std::span<const int64_t> shape) const {
  const Tensor* tensor = Find(name);
  if (tensor == nullptr) {
    return absl::NotFoundError(absl::StrCat(path_, ": missing tensor '", std::string(name), "'"));
  }
  if (!std::equal(shape.begin(), shape.end(), tensor->shape.begin(), tensor->shape.end())) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": tensor '", std::string(name),
                                                   "' has shape ", ShapeString(tensor->shape),
                                                   ", expected ", ShapeString(shape)));
  }
  const uint8_t* bytes = data_ + tensor->begin;
  const size_t size = tensor->end - tensor->begin;
  std::vector<float> values;
  if (tensor->dtype == "F32") {
    values.resize(size / 4);
    std::memcpy(values.data(), bytes, size);  // the data section need not be 4-byte aligned
  } else if (tensor->dtype == "F16" || tensor->dtype == "BF16") {
    const bool half = tensor->dtype == "F16";
    values.resize(size / 2);
    for (size_t i = 0; i < values.size(); ++i) {
      const uint16_t bits = static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
      values[i] = half ? HalfToFloat(bits) : Bfloat16ToFloat(bits);
    }
  } else {
    return absl::UnimplementedError(absl::StrCat(path_, ": tensor '", std::string(name),
                                                 "' has dtype ", tensor->dtype,
                                                 "; Ember reads F32, F16 and BF16 weights"));
  }
  return values;
}

}  // namespace ember::embed
