// SafetensorsFile: reading F32/F16/BF16, names with and without "bert.", and a fuzzed loader that
// must turn every truncated or garbled file into an error, never a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "embed/safetensors.h"
#include "status_matchers.h"

namespace ember::embed {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::HasSubstr;

struct TensorBytes {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// A safetensors file image: header length, JSON header (with __metadata__), data.
std::string MakeFile(const std::vector<TensorBytes>& tensors) {
  nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
  std::string data;
  for (const TensorBytes& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  const std::string json = header.dump();
  std::string file(8, '\0');
  const uint64_t length = json.size();
  std::memcpy(file.data(), &length, 8);
  return file + json + data;
}

std::string MakeFileWithHeader(const std::string& json, size_t data_bytes) {
  std::string file(8, '\0');
  const uint64_t length = json.size();
  std::memcpy(file.data(), &length, 8);
  return file + json + std::string(data_bytes, '\x3f');
}

class SafetensorsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& image) {
    std::ofstream(path_, std::ios::binary) << image;
    return path_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_ = std::filesystem::temp_directory_path() /
                      ("ember_safetensors_test_" + std::to_string(::getpid()) + ".safetensors");
};

TEST_F(SafetensorsTest, ReadsFloatDtypesAndToleratesI64) {
  const std::vector<float> f32 = {1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x3555, 0x0001, 0x7C00, 0x8000};
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC040, 0x4049};
  const std::vector<int64_t> i64 = {0, 1, 2};
  ASSERT_OK_AND_ASSIGN(
      const auto file,
      SafetensorsFile::Open(Write(MakeFile({{"a", "F32", {2, 3}, Bytes(f32)},
                                            {"bert.b", "F16", {6}, Bytes(f16)},
                                            {"c", "BF16", {3}, Bytes(bf16)},
                                            {"position_ids", "I64", {1, 3}, Bytes(i64)}}))));
  ASSERT_OK_AND_ASSIGN(const std::vector<float> a,
                       file->ReadFloat("a", std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a, f32);
  ASSERT_OK_AND_ASSIGN(const std::vector<float> b, file->ReadFloat("b", std::vector<int64_t>{6}));
  EXPECT_FLOAT_EQ(b[0], 1.0f);
  EXPECT_FLOAT_EQ(b[1], -2.0f);
  EXPECT_NEAR(b[2], 0.33325195f, 1e-8);
  EXPECT_FLOAT_EQ(b[3], 5.9604645e-8f);  // smallest subnormal half
  EXPECT_TRUE(std::isinf(b[4]));
  EXPECT_TRUE(std::signbit(b[5]));
  ASSERT_OK_AND_ASSIGN(const std::vector<float> c, file->ReadFloat("c", std::vector<int64_t>{3}));
  EXPECT_THAT(c, ::testing::ElementsAre(1.0f, -3.0f, 3.140625f));
  EXPECT_NE(file->Find("bert.b"), nullptr);
  EXPECT_EQ(file->Find("__metadata__"), nullptr);
  EXPECT_EQ(file->tensors().size(), 4u);
}

TEST_F(SafetensorsTest, ErrorsNameFileAndTensor) {
  const std::vector<float> f32(4, 1.0f);
  const std::vector<int64_t> i64 = {0, 1};
  ASSERT_OK_AND_ASSIGN(const auto file,
                       SafetensorsFile::Open(Write(MakeFile(
                           {{"w", "F32", {2, 2}, Bytes(f32)}, {"ids", "I64", {2}, Bytes(i64)}}))));
  EXPECT_THAT(file->ReadFloat("missing", std::vector<int64_t>{2}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'missing'")));
  EXPECT_THAT(file->ReadFloat("w", std::vector<int64_t>{4}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'w' has shape [2, 2]")));
  EXPECT_THAT(file->ReadFloat("ids", std::vector<int64_t>{2}),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("I64")));
  EXPECT_THAT(file->ReadFloat("w", std::vector<int64_t>{2, 2}), IsOk());
  EXPECT_THAT(SafetensorsFile::Open(path_ + ".absent"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(".absent")));
}

TEST_F(SafetensorsTest, ContentHashFollowsBytes) {
  const std::vector<float> one = {1, 2, 3}, other = {1, 2, 4};
  ASSERT_OK_AND_ASSIGN(const auto a,
                       SafetensorsFile::Open(Write(MakeFile({{"t", "F32", {3}, Bytes(one)}}))));
  const uint64_t hash = a->content_hash();
  ASSERT_OK_AND_ASSIGN(const auto b,
                       SafetensorsFile::Open(Write(MakeFile({{"t", "F32", {3}, Bytes(one)}}))));
  ASSERT_OK_AND_ASSIGN(const auto c,
                       SafetensorsFile::Open(Write(MakeFile({{"t", "F32", {3}, Bytes(other)}}))));
  EXPECT_EQ(b->content_hash(), hash);
  EXPECT_NE(c->content_hash(), hash);
}

TEST_F(SafetensorsTest, RejectsMalformedHeaders) {
  const std::pair<std::string, size_t> cases[] = {
      {"[1, 2, 3]", 0},
      {"{\"t\": 5}", 0},
      {"{\"t\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4},
      {"{\"t\": {\"dtype\": \"Q4\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 16], "
       "\"data_offsets\": [0, 4]}}",
       4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [9223372036854775807, 2], "
       "\"data_offsets\": [0, 4]}}",
       4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 18446744073709551615]}}",
       4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4},
      {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}", 4},
      {"", 0},
  };
  for (const auto& [json, data] : cases) {
    EXPECT_THAT(SafetensorsFile::Open(Write(MakeFileWithHeader(json, data))),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path_)))
        << json;
  }
  // A header length larger than the file, including lengths that overflow when 8 is added.
  for (const uint64_t length :
       {uint64_t{1000}, ~uint64_t{0}, ~uint64_t{0} - 7, uint64_t{1} << 63}) {
    std::string image(8, '\0');
    std::memcpy(image.data(), &length, 8);
    image += "{}";
    EXPECT_THAT(SafetensorsFile::Open(Write(image)),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")))
        << length;
  }
}

// Every prefix of a valid file either opens (only the complete file) or fails cleanly.
TEST_F(SafetensorsTest, TruncatedAtEveryLength) {
  const std::vector<float> a(6, 0.5f), b(5, -1.0f);
  const std::string image = MakeFile({{"a", "F32", {2, 3}, Bytes(a)}, {"b", "F32", {5}, Bytes(b)}});
  for (size_t length = 0; length < image.size(); ++length) {
    EXPECT_THAT(SafetensorsFile::Open(Write(image.substr(0, length))),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << length;
  }
  EXPECT_THAT(SafetensorsFile::Open(Write(image)), IsOk());
}

// Random bytes written over the header (and the length): every outcome is a status, and a file that
// still opens only yields in-bounds reads.
TEST_F(SafetensorsTest, GarbledHeadersNeverCrash) {
  const std::vector<float> a(6, 0.5f);
  const std::vector<uint16_t> b(4, 0x3C00);
  const std::string image =
      MakeFile({{"a", "F32", {2, 3}, Bytes(a)}, {"b", "BF16", {2, 2}, Bytes(b)}});
  std::mt19937 random(20240611);
  for (int round = 0; round < 1000; ++round) {
    std::string garbled = image;
    const size_t header_end = image.size() - a.size() * 4 - b.size() * 2;
    const int edits = 1 + random() % 4;
    for (int e = 0; e < edits; ++e) {
      const size_t at = round % 10 == 0 ? random() % 8 : 8 + random() % (header_end - 8);
      garbled[at] = static_cast<char>(round % 3 == 0 ? "0123456789-[]{},.:\"e"[random() % 20]
                                                     : random() % 256);
    }
    auto file = SafetensorsFile::Open(Write(garbled));
    if (!file.ok()) continue;
    for (const auto& [name, tensor] : (*file)->tensors()) {
      (void)(*file)->ReadFloat(name, tensor.shape);
    }
  }
}

TEST_F(SafetensorsTest, HalfConversionIsExactForEveryPattern) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const float value = HalfToFloat(static_cast<uint16_t>(bits));
    const uint32_t exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF;
    if (exponent == 0x1F) {
      EXPECT_TRUE(mantissa ? std::isnan(value) : std::isinf(value)) << bits;
      continue;
    }
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    ASSERT_EQ(value, (bits & 0x8000) ? -magnitude : magnitude) << bits;
  }
}

}  // namespace
}  // namespace ember::embed
