#include "embed/static_encoder.h"

#include <cblas.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "embed/content_hash.h"
#include "embed/model2vec_encoder.h"
#include "embed/model_file.h"
#include "embed/unicode_text.h"
#include "ember/status.h"

namespace ember::embed {
namespace {

// vectors.bin, all integers little-endian:
//   0  char[8] magic "EMBERSWV"
//   8  u32     format version (1)
//   12 u32     element type (VectorElementType)
//   16 u64     rows (= lines of vocab.txt)
//   24 u32     dimension
//   28 u32     CRC-32 of vocab.txt
//   32 u32     CRC-32 of the vector payload
//   36 u32     CRC-32 of bytes 0..35
//   40 rows x dimension elements, row-major
// scripts/convert-wink-glove.mjs writes it; keep the two in step.
constexpr char kVectorsMagic[8] = {'E', 'M', 'B', 'E', 'R', 'S', 'W', 'V'};
constexpr uint32_t kVectorsFormatVersion = 1;
constexpr size_t kVectorsHeaderSize = 40;
constexpr char kEmberConfigName[] = "ember_static.json";
constexpr char kEmberFormatName[] = "ember-static-word-vectors";

// Do not renumber: part of the on-disk format.
enum class VectorElementType : uint32_t { kFloat32 = 1 };

template <typename T>
T LoadLittleEndian(const char* bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof(value));  // Ember targets little-endian machines only
  return value;
}

absl::Status ValidateOptions(const StaticEncoderOptions& options, int dimension,
                             const std::string& source) {
  if (!(options.sif_a >= 0) || !std::isfinite(options.sif_a)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": sif_a must be a finite number >= 0, not ", options.sif_a));
  }
  if (options.truncate_dim < 0 || options.truncate_dim > dimension) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": truncate_dim ", options.truncate_dim,
                                                   " is outside [0, ", dimension, "]"));
  }
  return absl::OkStatus();
}

// Splits `line` at spaces (and tabs), skipping empty fields.
template <typename Visitor>
void ForEachField(std::string_view line, Visitor&& visit) {
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    const size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    if (pos > start) visit(line.substr(start, pos - start));
  }
}

bool ParseInteger(std::string_view text, uint64_t* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// The unit eigenvector of the largest eigenvalue of the symmetric positive semi-definite `matrix`
// (dimension x dimension, row-major), by power iteration from a fixed start: deterministic.
std::vector<double> TopEigenvector(const std::vector<double>& matrix, int dimension) {
  std::vector<double> x(dimension, 1.0 / std::sqrt(static_cast<double>(dimension)));
  std::vector<double> y(dimension);
  for (int iteration = 0; iteration < 500; ++iteration) {
    double norm = 0;
    for (int i = 0; i < dimension; ++i) {
      double sum = 0;
      for (int j = 0; j < dimension; ++j) sum += matrix[i * dimension + j] * x[j];
      y[i] = sum;
      norm += sum * sum;
    }
    norm = std::sqrt(norm);
    if (norm == 0) return {};
    double change = 0;
    for (int i = 0; i < dimension; ++i) {
      y[i] /= norm;
      change = std::max(change, std::abs(y[i] - x[i]));
    }
    x.swap(y);
    if (change < 1e-12) break;
  }
  return x;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StaticEncoder>> StaticEncoder::LoadGloveText(
    const std::string& path, const StaticEncoderOptions& options) {
  EMBER_ASSIGN_OR_RETURN(const std::string text, ReadModelFile(path));
  auto encoder = std::unique_ptr<StaticEncoder>(new StaticEncoder());
  encoder->source_ = path;
  ContentHasher content;
  size_t line_start = 0;
  int line_number = 0;
  std::vector<float> row;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string_view line(text.data() + line_start, line_end - line_start);
    line_start = line_end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    std::string_view word;
    std::string_view first_value;
    row.clear();
    size_t field_count = 0;
    std::string_view bad_value;
    ForEachField(line, [&](std::string_view field) {
      if (field_count++ == 0) {
        word = field;
        return;
      }
      if (field_count == 2) first_value = field;
      float value = 0;
      const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
      if (error != std::errc() || end != field.data() + field.size() || !std::isfinite(value)) {
        if (bad_value.empty()) bad_value = field;
      }
      row.push_back(value);
    });
    if (field_count == 0) continue;  // blank line
    uint64_t header_count = 0;
    uint64_t header_dimension = 0;
    if (line_number == 1 && field_count == 2 && ParseInteger(word, &header_count) &&
        ParseInteger(first_value, &header_dimension)) {
      continue;  // word2vec's "<count> <dimension>" line
    }
    if (encoder->dimension_ == 0) {
      if (row.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line_number, ": a word with no vector values"));
      }
      encoder->dimension_ = static_cast<int>(row.size());
    }
    if (row.size() != static_cast<size_t>(encoder->dimension_)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line_number, ": expected ", encoder->dimension_, " values after the word \"",
          std::string(word), "\" (as on the first line), found ", row.size()));
    }
    if (!bad_value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line_number, ": \"", std::string(bad_value), "\" is not a finite number"));
    }
    encoder->words_.emplace_back(word);
    encoder->vectors_.insert(encoder->vectors_.end(), row.begin(), row.end());
    content.UpdateField(word);
    content.Update(row.data(), row.size() * sizeof(float));
  }
  if (encoder->words_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no word vectors in the file"));
  }
  EMBER_RETURN_IF_ERROR(encoder->Finish(options, content.HexDigest()));
  return encoder;
}

absl::StatusOr<std::unique_ptr<StaticEncoder>> StaticEncoder::LoadEmberFolder(
    const std::string& model_dir, const StaticEncoderOptions& options) {
  const std::string config_path = JoinPath(model_dir, kEmberConfigName);
  EMBER_ASSIGN_OR_RETURN(const nlohmann::json config, ReadJsonFile(config_path));
  StaticEncoderOptions settings = options;
  int dimension = 0;
  std::string vocab_name;
  std::string vectors_name;
  try {
    if (config.at("format") != kEmberFormatName) {
      return absl::InvalidArgumentError(
          absl::StrCat(config_path, ": format is not \"", kEmberFormatName, "\""));
    }
    const int version = config.at("format_version").get<int>();
    if (version > static_cast<int>(kVectorsFormatVersion)) {
      return absl::UnimplementedError(absl::StrCat(config_path, ": format_version ", version,
                                                   " is newer than this Ember reads (",
                                                   kVectorsFormatVersion, ")"));
    }
    dimension = config.at("dimension").get<int>();
    vocab_name = config.value("vocabulary", "vocab.txt");
    vectors_name = config.value("vectors", "vectors.bin");
    settings.sif_a = config.value("sif_a", settings.sif_a);
    settings.remove_common_component =
        config.value("remove_common_component", settings.remove_common_component);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_path, ": unexpected content: ", e.what()));
  }
  if (dimension <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": dimension must be > 0"));
  }

  const std::string vocab_path = JoinPath(model_dir, vocab_name);
  const std::string vectors_path = JoinPath(model_dir, vectors_name);
  EMBER_ASSIGN_OR_RETURN(const std::string vocab, ReadModelFile(vocab_path));
  EMBER_ASSIGN_OR_RETURN(const std::string vectors, ReadModelFile(vectors_path));

  if (vectors.size() < kVectorsHeaderSize ||
      std::memcmp(vectors.data(), kVectorsMagic, sizeof(kVectorsMagic)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(vectors_path, ": not an Ember word-vector file (bad magic number)"));
  }
  const char* header = vectors.data();
  if (LoadLittleEndian<uint32_t>(header + 36) != Crc32(header, 36)) {
    return absl::DataLossError(absl::StrCat(vectors_path, ": header checksum mismatch"));
  }
  const uint32_t version = LoadLittleEndian<uint32_t>(header + 8);
  if (version != kVectorsFormatVersion) {
    return absl::UnimplementedError(absl::StrCat(vectors_path, ": format version ", version,
                                                 " is not supported (this Ember "
                                                 "reads version ",
                                                 kVectorsFormatVersion, ")"));
  }
  if (LoadLittleEndian<uint32_t>(header + 12) !=
      static_cast<uint32_t>(VectorElementType::kFloat32)) {
    return absl::UnimplementedError(absl::StrCat(vectors_path, ": unsupported element type ",
                                                 LoadLittleEndian<uint32_t>(header + 12)));
  }
  const uint64_t rows = LoadLittleEndian<uint64_t>(header + 16);
  const uint32_t file_dimension = LoadLittleEndian<uint32_t>(header + 24);
  if (file_dimension != static_cast<uint32_t>(dimension)) {
    return absl::InvalidArgumentError(absl::StrCat(vectors_path, ": dimension ", file_dimension,
                                                   " differs from ", config_path, "'s ",
                                                   dimension));
  }
  const uint64_t payload_size = vectors.size() - kVectorsHeaderSize;
  if (rows == 0 || payload_size / sizeof(float) / dimension != rows ||
      payload_size % (sizeof(float) * dimension) != 0) {
    return absl::DataLossError(absl::StrCat(vectors_path, ": holds ", payload_size,
                                            " bytes of vectors; the header promises ", rows,
                                            " rows of ", dimension, " floats"));
  }
  if (LoadLittleEndian<uint32_t>(header + 28) != Crc32(vocab.data(), vocab.size())) {
    return absl::DataLossError(absl::StrCat(
        vocab_path, ": checksum mismatch (the vocabulary is not the one ", vectors_path,
        " was "
        "written with, or is corrupt)"));
  }
  const uint32_t vectors_crc = LoadLittleEndian<uint32_t>(header + 32);
  if (vectors_crc != Crc32(header + kVectorsHeaderSize, payload_size)) {
    return absl::DataLossError(absl::StrCat(vectors_path, ": vector data checksum mismatch"));
  }

  auto encoder = std::unique_ptr<StaticEncoder>(new StaticEncoder());
  encoder->source_ = model_dir;
  encoder->dimension_ = dimension;
  encoder->words_.reserve(rows);
  for (size_t start = 0; start < vocab.size();) {
    size_t end = vocab.find('\n', start);
    if (end == std::string::npos) end = vocab.size();
    encoder->words_.emplace_back(vocab.data() + start, end - start);
    start = end + 1;
  }
  if (encoder->words_.size() != rows) {
    return absl::InvalidArgumentError(absl::StrCat(vocab_path, ": ", encoder->words_.size(),
                                                   " words for ", rows, " vectors in ",
                                                   vectors_path));
  }
  encoder->vectors_.resize(payload_size / sizeof(float));
  std::memcpy(encoder->vectors_.data(), header + kVectorsHeaderSize, payload_size);
  for (float value : encoder->vectors_) {
    if (!std::isfinite(value)) {
      return absl::InvalidArgumentError(absl::StrCat(vectors_path, ": a value is not finite"));
    }
  }
  // The checksums identify the content; no need to hash 100+ MB again.
  ContentHasher content;
  content.UpdateValue(LoadLittleEndian<uint32_t>(header + 28));
  content.UpdateValue(vectors_crc);
  content.UpdateValue(rows);
  EMBER_RETURN_IF_ERROR(encoder->Finish(settings, content.HexDigest()));
  return encoder;
}

absl::Status StaticEncoder::Finish(const StaticEncoderOptions& options,
                                   const std::string& content_digest) {
  EMBER_RETURN_IF_ERROR(ValidateOptions(options, dimension_, source_));
  options_ = options;
  output_dimension_ = options.truncate_dim > 0 ? options.truncate_dim : dimension_;
  const size_t count = words_.size();
  rows_.reserve(count);
  for (size_t row = 0; row < count; ++row) {
    rows_.emplace(words_[row], static_cast<int32_t>(row));  // a repeated word keeps its first row
  }

  // Zipf: the word of rank r has frequency 1 / (r * H), H the harmonic number of the vocabulary
  // size.
  double harmonic = 0;
  for (size_t rank = count; rank >= 1; --rank) harmonic += 1.0 / static_cast<double>(rank);
  auto frequency = [&](size_t row) { return 1.0 / (static_cast<double>(row + 1) * harmonic); };
  weights_.resize(count);
  for (size_t row = 0; row < count; ++row) {
    weights_[row] = options.sif_a > 0
                        ? static_cast<float>(options.sif_a / (options.sif_a + frequency(row)))
                        : 1.0f;
  }

  if (options.remove_common_component) {
    // The second moment of the weighted word vectors as they occur in text (each word in proportion
    // to its frequency): its top eigenvector is the direction all text vectors share. Accumulated
    // in double, block by block with BLAS (a plain loop took 0.9 s for GloVe's 341k x 100).
    const int d = dimension_;
    std::vector<double> moment(static_cast<size_t>(d) * d, 0.0);
    constexpr size_t kBlockRows = 4096;
    std::vector<double> block(kBlockRows * d);
    for (size_t first = 0; first < count; first += kBlockRows) {
      const size_t rows = std::min(kBlockRows, count - first);
      for (size_t r = 0; r < rows; ++r) {
        const size_t row = first + r;
        const double scale = std::sqrt(frequency(row)) * weights_[row];
        const float* v = &vectors_[row * d];
        for (int j = 0; j < d; ++j) block[r * d + j] = scale * v[j];
      }
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, static_cast<int>(rows), 1.0,
                  block.data(), d, 1.0, moment.data(), d);
    }
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < i; ++j) moment[static_cast<size_t>(i) * d + j] = moment[j * d + i];
    }
    const std::vector<double> top = TopEigenvector(moment, d);
    common_component_.assign(top.begin(), top.end());
  }

  ContentHasher hasher;
  hasher.UpdateField("ember.static/1");  // bump when the word splitting or weighting changes
  hasher.UpdateField(content_digest);
  hasher.UpdateValue(dimension_);
  hasher.UpdateValue(options.sif_a);
  hasher.UpdateValue<uint8_t>(options.remove_common_component);
  hasher.UpdateValue(output_dimension_);
  fingerprint_ = hasher.HexDigest();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> StaticEncoder::Embed(std::span<const std::string> texts,
                                                        EmbedRole /*role*/) const {
  std::vector<float> out(texts.size() * output_dimension_);
  for (size_t i = 0; i < texts.size(); ++i) EmbedOne(texts[i], &out[i * output_dimension_]);
  return out;
}

int StaticEncoder::CountTokens(std::string_view text) const {
  // Words as EmbedOne cuts them, known to the vocabulary or not.
  int words = 0;
  bool in_word = false;
  for (size_t pos = 0; pos < text.size();) {
    const bool word_character = unicode::IsWordCharacter(unicode::DecodeUtf8(text, &pos));
    words += word_character && !in_word;
    in_word = word_character;
  }
  return words;
}

void StaticEncoder::EmbedOne(std::string_view text, float* out) const {
  // Scratch capacity survives across calls on the same thread.
  thread_local std::string word;
  thread_local std::vector<double> sum;
  word.clear();
  sum.assign(dimension_, 0.0);
  bool any_word = false;
  auto end_word = [&]() {
    if (word.empty()) return;
    const auto it = rows_.find(word);
    word.clear();
    if (it == rows_.end()) return;
    any_word = true;
    const double w = weights_[it->second];
    const float* v = &vectors_[static_cast<size_t>(it->second) * dimension_];
    for (int j = 0; j < dimension_; ++j) sum[j] += w * v[j];
  };
  for (size_t pos = 0; pos < text.size();) {
    const char32_t cp = unicode::DecodeUtf8(text, &pos);
    if (unicode::IsWordCharacter(cp)) {
      unicode::AppendUtf8(unicode::ToLower(cp), &word);
    } else {
      end_word();
    }
  }
  end_word();
  std::fill(out, out + output_dimension_, 0.0f);
  if (!any_word) return;
  if (!common_component_.empty()) {
    double projection = 0;
    for (int j = 0; j < dimension_; ++j) projection += sum[j] * common_component_[j];
    for (int j = 0; j < dimension_; ++j) sum[j] -= projection * common_component_[j];
  }
  double norm = 0;
  for (int j = 0; j < output_dimension_; ++j) norm += sum[j] * sum[j];
  norm = std::sqrt(norm);
  if (norm < 1e-12) return;  // e.g. a text of one word that is the common component itself
  for (int j = 0; j < output_dimension_; ++j) out[j] = static_cast<float>(sum[j] / norm);
}

std::string StaticEncoder::Describe() const {
  std::string weighting =
      options_.sif_a > 0 ? absl::StrFormat("SIF a=%g", options_.sif_a) : "plain average";
  if (options_.remove_common_component) weighting += ", common component removed";
  std::string dimensions = absl::StrCat(dimension_);
  if (output_dimension_ != dimension_)
    absl::StrAppend(&dimensions, " truncated to ", output_dimension_);
  return absl::StrCat("static word vectors ", words_.size(), " x ", dimensions, ", ", weighting,
                      ", normalized, from ", source_);
}

std::span<const float> StaticEncoder::WordVector(std::string_view word) const {
  const auto it = rows_.find(word);
  if (it == rows_.end()) return {};
  return {&vectors_[static_cast<size_t>(it->second) * dimension_], static_cast<size_t>(dimension_)};
}

bool IsStaticModel(const std::string& path) {
  return IsRegularFile(JoinPath(path, kEmberConfigName)) || IsRegularFile(path) ||
         IsModel2VecModel(path);
}

absl::StatusOr<std::unique_ptr<Encoder>> LoadStaticEncoder(const std::string& path,
                                                           const EncoderOptions& options) {
  if (IsModel2VecModel(path)) {
    EMBER_ASSIGN_OR_RETURN(auto encoder, Model2VecEncoder::Load(path, options));
    return encoder;
  }
  StaticEncoderOptions static_options;
  static_options.truncate_dim = options.truncate_dim;
  if (IsRegularFile(path)) {
    EMBER_ASSIGN_OR_RETURN(auto encoder, StaticEncoder::LoadGloveText(path, static_options));
    return encoder;
  }
  EMBER_ASSIGN_OR_RETURN(auto encoder, StaticEncoder::LoadEmberFolder(path, static_options));
  return encoder;
}

}  // namespace ember::embed
