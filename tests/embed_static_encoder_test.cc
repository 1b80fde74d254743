// Tests for embed/static_encoder.h: exact averages on tiny vector files, SIF weights,
// common-component removal, both file formats and every load error they promise, and (when
// models/default exists) that the default model's neighbourhoods make sense.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "embed/content_hash.h"
#include "embed/static_encoder.h"
#include "status_matchers.h"
#include "temp_dir.h"

namespace ember::embed {
namespace {

using ::ember::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

using ::ember::testing::TempDir;

// Most frequent first, as GloVe files are.
constexpr char kTinyGlove[] =
    "the 1 0 0\n"
    "cat 0 1 0\n"
    "dog 0 0 1\n"
    "caf\xC3\xA9 0 2 2\n";

constexpr StaticEncoderOptions kPlainAverage = {.sif_a = 0, .remove_common_component = false};

std::vector<float> EmbedOne(const Encoder& encoder, const std::string& text,
                            EmbedRole role = EmbedRole::kDocument) {
  const std::vector<std::string> texts = {text};
  absl::StatusOr<std::vector<float>> vectors = encoder.Embed(texts, role);
  EXPECT_TRUE(vectors.ok()) << vectors.status();
  return vectors.ok() ? *vectors : std::vector<float>();
}

std::vector<float> Normalized(std::vector<float> v) {
  double norm = 0;
  for (float x : v) norm += x * x;
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

auto NearlyEquals(const std::vector<float>& expected) {
  return Pointwise(FloatNear(1e-6f), expected);
}

TEST(StaticEncoderTest, AveragesKnownWordsAndNormalizes) {
  TempDir dir;
  const std::string path = dir.Write("tiny.txt", kTinyGlove);
  ASSERT_OK_AND_ASSIGN(auto encoder, StaticEncoder::LoadGloveText(path, kPlainAverage));
  EXPECT_EQ(encoder->dimension(), 3);
  EXPECT_EQ(encoder->vocab_size(), 4);
  EXPECT_THAT(EmbedOne(*encoder, "cat dog"), NearlyEquals(Normalized({0, 1, 1})));
  EXPECT_THAT(EmbedOne(*encoder, "the cat the"), NearlyEquals(Normalized({2, 1, 0})));
  // Case, punctuation and unknown words.
  EXPECT_THAT(EmbedOne(*encoder, "CAT!dog... zebra"), NearlyEquals(Normalized({0, 1, 1})));
  // Unicode-aware lower-casing: "CAFÉ" is "café".
  EXPECT_THAT(EmbedOne(*encoder, "CAF\xC3\x89"), NearlyEquals(Normalized({0, 1, 1})));
  // Both roles give the same vector.
  EXPECT_EQ(EmbedOne(*encoder, "cat the", EmbedRole::kQuery),
            EmbedOne(*encoder, "cat the", EmbedRole::kDocument));
}

TEST(StaticEncoderTest, TextWithoutKnownWordsIsTheZeroVector) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto encoder,
                       StaticEncoder::LoadGloveText(dir.Write("tiny.txt", kTinyGlove)));
  for (const std::string text : {"", "   ", "!!! ...", "zebra unicorn", "\xFF\xFE"}) {
    EXPECT_THAT(EmbedOne(*encoder, text), ElementsAre(0, 0, 0)) << text;
  }
}

TEST(StaticEncoderTest, CountsWordsKnownOrNot) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto encoder,
                       StaticEncoder::LoadGloveText(dir.Write("tiny.txt", kTinyGlove)));
  EXPECT_EQ(encoder->CountTokens(""), 0);
  EXPECT_EQ(encoder->CountTokens("  ...  "), 0);
  EXPECT_EQ(encoder->CountTokens("cat"), 1);
  // Cut where EmbedOne cuts: "3.5" is two words, unknown words count.
  EXPECT_EQ(encoder->CountTokens("The CAT, a zebra: 3.5!"), 6);
  EXPECT_EQ(encoder->CountTokens("CAF\xC3\x89 cr\xC3\xA8me"), 2);
}

TEST(StaticEncoderTest, EmbedsBatchesRowByRow) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(
      auto encoder, StaticEncoder::LoadGloveText(dir.Write("tiny.txt", kTinyGlove), kPlainAverage));
  const std::vector<std::string> texts = {"cat", "", "dog"};
  ASSERT_OK_AND_ASSIGN(const std::vector<float> vectors, encoder->Embed(texts, EmbedRole::kQuery));
  EXPECT_THAT(vectors, ElementsAre(0, 1, 0, 0, 0, 0, 0, 0, 1));
  ASSERT_OK_AND_ASSIGN(const std::vector<float> none, encoder->Embed({}, EmbedRole::kQuery));
  EXPECT_TRUE(none.empty());
}

TEST(StaticEncoderTest, SifWeightsFollowZipfRanks) {
  TempDir dir;
  constexpr double kA = 0.1;
  ASSERT_OK_AND_ASSIGN(
      auto encoder, StaticEncoder::LoadGloveText(dir.Write("tiny.txt", kTinyGlove),
                                                 {.sif_a = kA, .remove_common_component = false}));
  // p(rank r) = 1 / (r * H_4), H_4 = 25/12; weight = a / (a + p).
  const double harmonic = 1.0 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4;
  auto weight = [&](int rank) { return kA / (kA + 1.0 / (rank * harmonic)); };
  EXPECT_THAT(EmbedOne(*encoder, "the cat dog"),
              NearlyEquals(Normalized({static_cast<float>(weight(1)), static_cast<float>(weight(2)),
                                       static_cast<float>(weight(3))})));
}

TEST(StaticEncoderTest, CommonComponentIsRemoved) {
  TempDir dir;
  // "the" dominates the frequency-weighted second moment: the common component is exactly e1.
  const std::string path = dir.Write("tiny.txt", "the 10 0 0\ncat 0 1 0\ndog 0 0 1\nfox 0 4 1\n");
  ASSERT_OK_AND_ASSIGN(auto encoder, StaticEncoder::LoadGloveText(
                                         path, {.sif_a = 0, .remove_common_component = true}));
  EXPECT_THAT(EmbedOne(*encoder, "the cat"), NearlyEquals({0, 1, 0}));
  EXPECT_THAT(EmbedOne(*encoder, "fox dog"), NearlyEquals(Normalized({0, 4, 2})));
}

TEST(StaticEncoderTest, TruncateDimKeepsLeadingComponentsThenNormalizes) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto encoder,
                       StaticEncoder::LoadGloveText(
                           dir.Write("tiny.txt", kTinyGlove),
                           {.sif_a = 0, .remove_common_component = false, .truncate_dim = 2}));
  EXPECT_EQ(encoder->dimension(), 2);
  EXPECT_THAT(EmbedOne(*encoder, "the cat dog"), NearlyEquals(Normalized({1, 1})));
  EXPECT_THAT(StaticEncoder::LoadGloveText(dir.Write("t.txt", kTinyGlove), {.truncate_dim = 4}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncate_dim")));
}

TEST(StaticEncoderTest, AcceptsWord2VecHeaderAndKeepsFirstOfRepeatedWords) {
  TempDir dir;
  const std::string path = dir.Write("w2v.txt", "3 2\r\ncat 1 0\r\ndog 0 1\r\ncat 5 5\r\n\r\n");
  ASSERT_OK_AND_ASSIGN(auto encoder, StaticEncoder::LoadGloveText(path, kPlainAverage));
  EXPECT_EQ(encoder->dimension(), 2);
  EXPECT_THAT(encoder->WordVector("cat"), ElementsAre(1, 0));
  EXPECT_TRUE(encoder->WordVector("bird").empty());
}

TEST(StaticEncoderTest, GloveLoadErrorsNameFileAndLine) {
  TempDir dir;
  struct Case {
    std::string content;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"the 1 0 0\ncat 0 1 0\ndog 0 0", "bad.txt:3: expected 3 values"},  // truncated
      {"the 1 0 0\ncat 0 1 0 7\n", "bad.txt:2: expected 3 values"},
      {"the 1 0 0\ncat 0 nan 0\n", "bad.txt:2: \"nan\" is not a finite number"},
      {"the 1 0 0\ncat 0 inf 0\n", "bad.txt:2: \"inf\" is not a finite number"},
      {"the 1 0 0\ncat 0 1x 0\n", "bad.txt:2: \"1x\" is not a finite number"},
      {"the\ncat 0 1\n", "bad.txt:1: a word with no vector values"},
      {"", "bad.txt: no word vectors"},
      {"\n\n", "bad.txt: no word vectors"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.Write("bad.txt", c.content);
    EXPECT_THAT(StaticEncoder::LoadGloveText(path),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.expected)))
        << c.content;
  }
  EXPECT_THAT(StaticEncoder::LoadGloveText(dir.path() + "/missing.txt"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.txt")));
  EXPECT_THAT(StaticEncoder::LoadGloveText(dir.Write("ok.txt", kTinyGlove), {.sif_a = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sif_a")));
}

// Writes Ember's static model folder byte by byte from the format's specification (independently of
// the converter script), with knobs to corrupt each part.
struct EmberFolderSpec {
  std::vector<std::string> words = {"the", "cat", "dog", "caf\xC3\xA9"};
  std::vector<float> vectors = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 2, 2};
  uint32_t dimension = 3;
  uint32_t config_dimension = 3;
  uint32_t version = 1;
  std::string magic = "EMBERSWV";
  std::string config_extra = R"("sif_a": 0, "remove_common_component": false)";
};

void WriteEmberFolder(const TempDir& dir, const EmberFolderSpec& spec) {
  std::string vocab;
  for (const std::string& word : spec.words) vocab += word + "\n";
  const std::string payload(reinterpret_cast<const char*>(spec.vectors.data()),
                            spec.vectors.size() * sizeof(float));
  std::string header(40, '\0');
  auto put32 = [&](size_t offset, uint32_t value) { std::memcpy(&header[offset], &value, 4); };
  std::memcpy(&header[0], spec.magic.data(), 8);
  put32(8, spec.version);
  put32(12, 1);
  const uint64_t rows = spec.words.size();
  std::memcpy(&header[16], &rows, 8);
  put32(24, spec.dimension);
  put32(28, Crc32(vocab.data(), vocab.size()));
  put32(32, Crc32(payload.data(), payload.size()));
  put32(36, Crc32(header.data(), 36));
  dir.Write("vocab.txt", vocab);
  dir.Write("vectors.bin", header + payload);
  dir.Write("ember_static.json",
            R"({"format": "ember-static-word-vectors", "format_version": 1, "dimension": )" +
                std::to_string(spec.config_dimension) + ", " + spec.config_extra + "}");
}

TEST(StaticEncoderTest, EmberFolderGivesTheSameVectorsAsGloveText) {
  TempDir folder;
  WriteEmberFolder(folder, {});
  ASSERT_TRUE(IsStaticModel(folder.path()));
  ASSERT_OK_AND_ASSIGN(auto from_folder, StaticEncoder::LoadEmberFolder(folder.path()));
  TempDir text;
  ASSERT_OK_AND_ASSIGN(auto from_text, StaticEncoder::LoadGloveText(
                                           text.Write("tiny.txt", kTinyGlove), kPlainAverage));
  for (const std::string sentence : {"cat dog", "The CAFÉ, the dog", "zebra"}) {
    EXPECT_EQ(EmbedOne(*from_folder, sentence), EmbedOne(*from_text, sentence)) << sentence;
  }
  EXPECT_THAT(from_folder->Describe(), AllOf(HasSubstr("4 x 3"), HasSubstr(folder.path())));
}

TEST(StaticEncoderTest, EmberFolderSettingsComeFromItsConfig) {
  TempDir folder;
  EmberFolderSpec spec;
  spec.config_extra = R"("sif_a": 0.1, "remove_common_component": false)";
  WriteEmberFolder(folder, spec);
  ASSERT_OK_AND_ASSIGN(auto encoder, LoadStaticEncoder(folder.path(), {}));
  const double harmonic = 1.0 + 1.0 / 2 + 1.0 / 3 + 1.0 / 4;
  const float w1 = static_cast<float>(0.1 / (0.1 + 1.0 / harmonic));
  const float w2 = static_cast<float>(0.1 / (0.1 + 1.0 / (2 * harmonic)));
  EXPECT_THAT(EmbedOne(*encoder, "the cat"), NearlyEquals(Normalized({w1, w2, 0})));
}

TEST(StaticEncoderTest, EmberFolderErrors) {
  {
    TempDir folder;
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("ember_static.json")));
    EXPECT_FALSE(IsStaticModel(folder.path()));
  }
  {
    TempDir folder;
    WriteEmberFolder(folder, {});
    std::filesystem::remove(folder.path() + "/vocab.txt");
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("vocab.txt")));
  }
  {
    TempDir folder;
    WriteEmberFolder(folder, {});
    folder.Write("ember_static.json", "{\"format\": ");
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ember_static.json")));
    folder.Write("ember_static.json", R"({"format": "something-else", "format_version": 1})");
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ember_static.json")));
    folder.Write("ember_static.json",
                 R"({"format": "ember-static-word-vectors", "format_version": 7, "dimension": 3})");
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("format_version 7")));
  }
  {
    TempDir folder;
    EmberFolderSpec spec;
    spec.magic = "NOTEMBER";
    WriteEmberFolder(folder, spec);
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vectors.bin")));
  }
  {
    TempDir folder;
    EmberFolderSpec spec;
    spec.version = 2;
    WriteEmberFolder(folder, spec);
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("vectors.bin")));
  }
  {
    TempDir folder;
    EmberFolderSpec spec;
    spec.config_dimension = 4;
    WriteEmberFolder(folder, spec);
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dimension")));
  }
  {
    TempDir folder;
    EmberFolderSpec spec;
    spec.words.pop_back();  // 3 words for 4 rows of vectors
    WriteEmberFolder(folder, spec);
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vectors.bin")));
  }
  {
    TempDir folder;
    EmberFolderSpec spec;
    spec.vectors[4] = std::nanf("");
    WriteEmberFolder(folder, spec);
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not finite")));
  }
}

TEST(StaticEncoderTest, EmberFolderCorruptionIsDataLoss) {
  TempDir folder;
  WriteEmberFolder(folder, {});
  const std::string vectors_path = folder.path() + "/vectors.bin";
  std::string bytes;
  {
    std::ifstream in(vectors_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto rewrite = [&](const std::string& content) { folder.Write("vectors.bin", content); };
  for (size_t offset : {size_t{9}, size_t{20}, size_t{44}, bytes.size() - 1}) {
    std::string corrupt = bytes;
    corrupt[offset] ^= 0x10;
    rewrite(corrupt);
    EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vectors.bin")))
        << "byte " << offset;
  }
  rewrite(bytes.substr(0, bytes.size() - 4));
  EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vectors.bin")));
  rewrite(bytes);
  folder.Write("vocab.txt", "the\ncat\ndog\ncafe\n");
  EXPECT_THAT(StaticEncoder::LoadEmberFolder(folder.path()),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vocab.txt")));
}

TEST(StaticEncoderTest, FingerprintTracksVectorsAndSettings) {
  TempDir dir;
  const std::string a = dir.Write("a.txt", kTinyGlove);
  const std::string b = dir.Write("b.txt", "the 1 0 0\ncat 0 1 0\ndog 0 0 1\ncaf\xC3\xA9 0 2 3\n");
  ASSERT_OK_AND_ASSIGN(auto a1, StaticEncoder::LoadGloveText(a));
  ASSERT_OK_AND_ASSIGN(auto a2, StaticEncoder::LoadGloveText(a));
  ASSERT_OK_AND_ASSIGN(auto b1, StaticEncoder::LoadGloveText(b));
  ASSERT_OK_AND_ASSIGN(auto plain, StaticEncoder::LoadGloveText(a, kPlainAverage));
  ASSERT_OK_AND_ASSIGN(auto truncated, StaticEncoder::LoadGloveText(a, {.truncate_dim = 2}));
  EXPECT_EQ(a1->fingerprint(), a2->fingerprint());
  EXPECT_NE(a1->fingerprint(), b1->fingerprint());
  EXPECT_NE(a1->fingerprint(), plain->fingerprint());
  EXPECT_NE(a1->fingerprint(), truncated->fingerprint());
}

TEST(StaticEncoderTest, ArbitraryBytesGiveUnitOrZeroVectorsConcurrently) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto encoder,
                       StaticEncoder::LoadGloveText(dir.Write("tiny.txt", kTinyGlove)));
  std::mt19937_64 random(7);
  std::vector<std::string> texts;
  const std::vector<std::string> pieces = {
      "cat", " ", "DOG", "caf\xC3\xA9", "\xED\xA0\x80", "\xC0", std::string(1, '\0'), "the"};
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (int p = random() % 12; p > 0; --p) {
      text += random() % 2 ? pieces[random() % pieces.size()]
                           : std::string(1, static_cast<char>(random() & 0xFF));
    }
    texts.push_back(text);
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<float> expected,
                       encoder->Embed(texts, EmbedRole::kDocument));
  for (size_t i = 0; i < texts.size(); ++i) {
    const double norm =
        std::sqrt(expected[3 * i] * expected[3 * i] + expected[3 * i + 1] * expected[3 * i + 1] +
                  expected[3 * i + 2] * expected[3 * i + 2]);
    EXPECT_TRUE(norm == 0 || std::abs(norm - 1) < 1e-5) << norm;
  }
  std::vector<std::thread> threads;
  std::vector<bool> same(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::vector<float>> got = encoder->Embed(texts, EmbedRole::kQuery);
      same[t] = got.ok() && *got == expected;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(same, ElementsAre(true, true, true, true));
}

// The default model built by scripts/fetch-default-model.sh, when present.
std::string DefaultModelDir() {
  if (const char* env = std::getenv("EMBER_DEFAULT_MODEL")) return env;
  return (std::filesystem::path(EMBER_BINARY_DIR).parent_path() / "models" / "default").string();
}

TEST(DefaultStaticModelTest, NeighboursAreSensible) {
  const std::string dir = DefaultModelDir();
  if (!IsStaticModel(dir)) {
    GTEST_SKIP() << "no default model at " << dir << " (run scripts/fetch-default-model.sh)";
  }
  ASSERT_OK_AND_ASSIGN(auto encoder, LoadStaticEncoder(dir, {}));
  EXPECT_EQ(encoder->dimension(), 100);
  auto similarity = [&](const std::string& a, const std::string& b) {
    return Dot(EmbedOne(*encoder, a), EmbedOne(*encoder, b));
  };
  EXPECT_GT(similarity("king", "queen"), similarity("king", "carrot"));
  EXPECT_GT(similarity("carrot", "potato"), similarity("carrot", "queen"));
  EXPECT_GT(similarity("The cat sat on the mat.", "A kitten was lying on the rug."),
            similarity("The cat sat on the mat.", "Stock markets fell sharply on Monday."));
  EXPECT_GT(similarity("vaccine efficacy against influenza", "flu shots protect people"),
            similarity("vaccine efficacy against influenza", "football transfer rumours"));
}

}  // namespace
}  // namespace ember::embed
