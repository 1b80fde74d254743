#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "index/crc32c.h"
#include "index/snapshot.h"
#include "index/vector_index.h"
#include "index_test_data.h"
#include "status_matchers.h"

namespace ember::index {
namespace {

using ::ember::index::testing::RandomVectors;
using ::ember::index::testing::SparseLabels;
using ::ember::index::testing::SpecOf;
using ::ember::testing::StatusIs;

constexpr int kDim = 12;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Recomputes the trailing checksum, so that corruption reaches the payload parser.
std::string WithValidChecksum(std::string bytes) {
  const uint32_t crc = Crc32c(bytes.data(), bytes.size() - 4);
  std::memcpy(bytes.data() + bytes.size() - 4, &crc, 4);
  return bytes;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("ember_index_snapshot_test_" + std::to_string(::getpid()) + "_" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string PathOf(const std::string& name) const { return (directory_ / name).string(); }

  std::filesystem::path directory_;
};

struct KindCase {
  const char* name;
  IndexSpec spec;
  size_t count;  // vectors added
  Metric metric;
};

IndexSpec SmallIvf() {
  IndexSpec spec = SpecOf(IndexKind::kIvf);
  spec.ivf.nlist = 8;
  spec.ivf.nprobe = 2;
  return spec;
}
IndexSpec SmallHnsw() {
  IndexSpec spec = SpecOf(IndexKind::kHnsw);
  spec.hnsw.m = 8;
  spec.hnsw.ef_construction = 40;
  return spec;
}

class SnapshotRoundTripTest : public SnapshotTest,
                              public ::testing::WithParamInterface<KindCase> {};

TEST_P(SnapshotRoundTripTest, LoadedIndexSearchesIdentically) {
  const KindCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, c.metric, c.spec));
  const std::vector<Label> labels = SparseLabels(c.count);
  ASSERT_OK(index->Add(labels, RandomVectors(c.count, kDim, 1)));
  // Some removals (HNSW: tombstones below the rebuild threshold).
  std::vector<Label> removed;
  for (size_t i = 0; i < c.count; i += 10) removed.push_back(labels[i]);
  ASSERT_OK(index->Remove(removed));

  const std::string path = PathOf("index.snapshot");
  ASSERT_OK(index->SaveSnapshot(path, 4242));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  uint64_t covered = 0;
  ASSERT_OK_AND_ASSIGN(auto loaded,
                       VectorIndex::LoadSnapshot(path, kDim, c.metric, c.spec, &covered));
  EXPECT_EQ(covered, 4242u);
  EXPECT_EQ(loaded->Stats().live_vectors, index->Stats().live_vectors);
  EXPECT_EQ(loaded->Stats().tombstones, index->Stats().tombstones);
  EXPECT_EQ(loaded->Stats().trained, index->Stats().trained);
  for (size_t i = 0; i < c.count; ++i) EXPECT_EQ(loaded->Contains(labels[i]), i % 10 != 0);

  const std::vector<float> queries = RandomVectors(20, kDim, 2);
  for (int q = 0; q < 20; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    ASSERT_OK_AND_ASSIGN(auto expected, index->Search(query, {.k = 10}));
    ASSERT_OK_AND_ASSIGN(auto actual, loaded->Search(query, {.k = 10}));
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
      EXPECT_EQ(actual[i].label, expected[i].label);
      EXPECT_EQ(actual[i].distance, expected[i].distance);
    }
  }
  // The loaded index keeps working: a write, then a second snapshot over the first.
  ASSERT_OK(loaded->Add(std::vector<Label>{999}, std::vector<float>(kDim, 9.0f)));
  ASSERT_OK(loaded->SaveSnapshot(path, 4243));
  ASSERT_OK_AND_ASSIGN(auto reloaded,
                       VectorIndex::LoadSnapshot(path, kDim, c.metric, c.spec, &covered));
  EXPECT_EQ(covered, 4243u);
  EXPECT_TRUE(reloaded->Contains(999));
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, SnapshotRoundTripTest,
    ::testing::Values(KindCase{"Flat", SpecOf(IndexKind::kFlat), 300, Metric::kL2},
                      KindCase{"EmptyFlat", SpecOf(IndexKind::kFlat), 0, Metric::kL2},
                      KindCase{"Hnsw", SmallHnsw(), 1000, Metric::kCosine},
                      KindCase{"EmptyHnsw", SmallHnsw(), 0, Metric::kL2},
                      KindCase{"UntrainedIvf", SmallIvf(), 100, Metric::kInnerProduct},
                      KindCase{"TrainedIvf", SmallIvf(), 1000, Metric::kL2}),
    [](const ::testing::TestParamInfo<KindCase>& info) { return std::string(info.param.name); });

class SnapshotCorruptionTest : public SnapshotTest, public ::testing::WithParamInterface<KindCase> {
 protected:
  // Saves an index and returns the snapshot's bytes.
  std::string SaveValid() {
    const KindCase& c = GetParam();
    auto index = VectorIndex::Create(kDim, c.metric, c.spec);
    EXPECT_OK(index.status());
    EXPECT_OK((*index)->Add(SparseLabels(c.count), RandomVectors(c.count, kDim, 3)));
    EXPECT_OK((*index)->SaveSnapshot(PathOf("valid"), 1));
    return ReadFile(PathOf("valid"));
  }
  absl::Status LoadBytes(const std::string& bytes) {
    WriteFile(PathOf("corrupt"), bytes);
    uint64_t covered = 0;
    return VectorIndex::LoadSnapshot(PathOf("corrupt"), kDim, GetParam().metric, GetParam().spec,
                                     &covered)
        .status();
  }
};

TEST_P(SnapshotCorruptionTest, TruncatedFileIsDataLoss) {
  const std::string bytes = SaveValid();
  for (size_t size : {size_t{0}, size_t{7}, size_t{48}, size_t{52}, bytes.size() / 2,
                      bytes.size() - 5, bytes.size() - 1}) {
    EXPECT_THAT(LoadBytes(bytes.substr(0, size)), StatusIs(absl::StatusCode::kDataLoss))
        << "size " << size;
  }
}

TEST_P(SnapshotCorruptionTest, FlippedBitIsDataLoss) {
  const std::string bytes = SaveValid();
  for (size_t position = 0; position < bytes.size(); position += 1 + bytes.size() / 97) {
    std::string corrupt = bytes;
    corrupt[position] ^= 0x10;
    EXPECT_THAT(LoadBytes(corrupt), StatusIs(absl::StatusCode::kDataLoss)) << "byte " << position;
  }
  std::string corrupt = bytes;
  corrupt.back() ^= 0x01;  // the checksum itself
  EXPECT_THAT(LoadBytes(corrupt), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_P(SnapshotCorruptionTest, BadMagicAndVersionAreDataLoss) {
  const std::string bytes = SaveValid();
  std::string wrong_magic = bytes;
  wrong_magic[0] = 'X';
  EXPECT_THAT(LoadBytes(WithValidChecksum(wrong_magic)),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("magic")));
  std::string wrong_version = bytes;
  wrong_version[8] = static_cast<char>(kSnapshotFormatVersion + 1);
  EXPECT_THAT(LoadBytes(WithValidChecksum(wrong_version)),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("version")));
}

// A payload that passes its checksum but lies about its own lengths (a buggy or foreign writer) is
// DataLoss, never a crash or an out-of-bounds read.
TEST_P(SnapshotCorruptionTest, InconsistentPayloadWithValidChecksumIsDataLoss) {
  const std::string bytes = SaveValid();
  const size_t payload = 48;
  // Cut the payload short at several points.
  for (size_t cut :
       {payload, payload + 1, payload + 9, (payload + bytes.size()) / 2, bytes.size() - 5}) {
    std::string shortened = bytes.substr(0, cut) + bytes.substr(bytes.size() - 4);
    EXPECT_THAT(LoadBytes(WithValidChecksum(shortened)), StatusIs(absl::StatusCode::kDataLoss))
        << "cut at " << cut;
  }
  // Trailing garbage after the payload.
  std::string longer = bytes.substr(0, bytes.size() - 4) + std::string(16, '\x7f') + "CRC!";
  EXPECT_THAT(LoadBytes(WithValidChecksum(longer)), StatusIs(absl::StatusCode::kDataLoss));
  // Huge counts in the first payload field.
  std::string huge = bytes;
  std::memset(huge.data() + payload, 0x7f, 8);
  EXPECT_THAT(LoadBytes(WithValidChecksum(huge)), StatusIs(absl::StatusCode::kDataLoss));
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, SnapshotCorruptionTest,
    ::testing::Values(KindCase{"Flat", SpecOf(IndexKind::kFlat), 50, Metric::kL2},
                      KindCase{"Hnsw", SmallHnsw(), 200, Metric::kL2},
                      KindCase{"UntrainedIvf", SmallIvf(), 50, Metric::kL2},
                      KindCase{"TrainedIvf", SmallIvf(), 400, Metric::kL2}),
    [](const ::testing::TestParamInfo<KindCase>& info) { return std::string(info.param.name); });

TEST_F(SnapshotTest, MissingFileIsNotFound) {
  uint64_t covered = 0;
  EXPECT_THAT(VectorIndex::LoadSnapshot(PathOf("absent"), kDim, Metric::kL2,
                                        SpecOf(IndexKind::kFlat), &covered),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SnapshotTest, MismatchedArgumentsAreFailedPrecondition) {
  const IndexSpec hnsw = SmallHnsw();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, Metric::kL2, hnsw));
  ASSERT_OK(index->Add(SparseLabels(50), RandomVectors(50, kDim, 1)));
  const std::string path = PathOf("hnsw");
  ASSERT_OK(index->SaveSnapshot(path, 7));
  uint64_t covered = 0;
  EXPECT_THAT(VectorIndex::LoadSnapshot(path, kDim + 1, Metric::kL2, hnsw, &covered),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("dimension")));
  EXPECT_THAT(VectorIndex::LoadSnapshot(path, kDim, Metric::kCosine, hnsw, &covered),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("metric")));
  EXPECT_THAT(
      VectorIndex::LoadSnapshot(path, kDim, Metric::kL2, SpecOf(IndexKind::kFlat), &covered),
      StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("kind")));
  IndexSpec other_m = hnsw;
  other_m.hnsw.m = hnsw.hnsw.m * 2;
  EXPECT_THAT(VectorIndex::LoadSnapshot(path, kDim, Metric::kL2, other_m, &covered),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("hnsw.m")));
  // The per-query default is not part of the structure: a different ef_search loads.
  IndexSpec other_ef = hnsw;
  other_ef.hnsw.ef_search = 500;
  EXPECT_OK(VectorIndex::LoadSnapshot(path, kDim, Metric::kL2, other_ef, &covered).status());
}

TEST_F(SnapshotTest, FailedSaveLeavesPreviousSnapshotAndNoTemporary) {
  ASSERT_OK_AND_ASSIGN(auto index,
                       VectorIndex::Create(kDim, Metric::kL2, SpecOf(IndexKind::kFlat)));
  ASSERT_OK(index->Add(SparseLabels(10), RandomVectors(10, kDim, 1)));
  EXPECT_THAT(index->SaveSnapshot(PathOf("no/such/directory/snapshot"), 1),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_FALSE(std::filesystem::exists(PathOf("no")));
}

}  // namespace
}  // namespace ember::index
