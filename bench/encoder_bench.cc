// Ember's transformer encoder throughput, printed next to ONNX Runtime's on the same weights.
//
//   encoder_bench --model DIR [--threads 1,2] [--batch 32] [--seqs 16,64,128] [--seconds 3]
//                 [--scifact corpus.jsonl --docs 512] [--ort ort.jsonl] [--precisions fp32,bf16]
//   encoder_bench --model DIR --scifact corpus.jsonl --docs 512 --write-ids ids.jsonl
//
// Fixed shapes use the token ids ../shared/tools/ort_bench.mjs feeds ONNX Runtime (batch x seq,
// [CLS]
// ... [SEP]); the SciFact workload embeds the first --docs abstracts (title + " " + text) as texts,
// in batches of --batch, tokenization included. --write-ids writes those texts' token ids for the
// ONNX Runtime side (bench/ort_mixed_bench.mjs) and exits. --ort reads ONNX Runtime's JSON lines
// and adds the ratio. --precisions adds the bfloat16 linear layers, with the worst cosine of their
// vectors to fp32's (SciFact texts and the longest fixed shape). Prints a table, then one JSON line
// per measurement. bench/encoder_bench.sh runs it all.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "embed/packed_gemm.h"
#include "embed/transformer_encoder.h"

namespace {

using ember::embed::EmbedRole;
using ember::embed::EncoderOptions;
using ember::embed::TransformerEncoder;

struct Flags {
  std::string model;
  std::vector<int> threads = {1, 2};
  int batch = 32;
  std::vector<int> seqs = {16, 64, 128};
  double seconds = 3;
  std::string scifact;
  int docs = 512;
  std::string ort;
  std::string write_ids;
  std::vector<std::string> precisions = {"fp32"};
};

std::vector<int> ParseInts(const std::string& text) {
  std::vector<int> values;
  for (const absl::string_view part : absl::StrSplit(text, ',')) {
    int value;
    if (absl::SimpleAtoi(part, &value)) values.push_back(value);
  }
  return values;
}

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--model")
      flags->model = value;
    else if (key == "--threads")
      flags->threads = ParseInts(value);
    else if (key == "--batch")
      flags->batch = std::stoi(value);
    else if (key == "--seqs")
      flags->seqs = ParseInts(value);
    else if (key == "--seconds")
      flags->seconds = std::stod(value);
    else if (key == "--scifact")
      flags->scifact = value;
    else if (key == "--docs")
      flags->docs = std::stoi(value);
    else if (key == "--ort")
      flags->ort = value;
    else if (key == "--write-ids")
      flags->write_ids = value;
    else if (key == "--precisions")
      flags->precisions = absl::StrSplit(value, ',');
    else
      return false;
  }
  return !flags->model.empty();
}

// Resident and peak resident memory of this process, in MiB.
std::pair<double, double> ResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  double rss = 0, peak = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024;
  }
  return {rss, peak};
}

std::vector<std::string> ReadSciFact(const std::string& path, int docs) {
  std::vector<std::string> texts;
  std::ifstream in(path);
  std::string line;
  while (static_cast<int>(texts.size()) < docs && std::getline(in, line)) {
    const nlohmann::json doc = nlohmann::json::parse(line);
    texts.push_back(doc.value("title", "") + " " + doc.value("text", ""));
  }
  return texts;
}

// The ids ort_bench.mjs builds for batch row b at length L.
std::vector<std::vector<int32_t>> FixedShapeIds(int batch, int length) {
  std::vector<std::vector<int32_t>> ids(batch, std::vector<int32_t>(length));
  for (int b = 0; b < batch; ++b) {
    for (int j = 0; j < length; ++j) {
      ids[b][j] = j == 0 ? 101 : j == length - 1 ? 102 : 1000 + ((b * 31 + j * 7) % 20000);
    }
  }
  return ids;
}

struct Measurement {
  std::string workload;
  std::string precision;
  int threads;
  double sentences_per_s;
  double tokens_per_s;
  double gflops;
  double rss_mib = 0;             // resident memory right after the measurement, encoder loaded
  double min_cosine_to_fp32 = 1;  // worst cosine between this precision's vectors and fp32's
};

double MinCosine(const std::vector<float>& a, const std::vector<float>& b, size_t dimension) {
  double worst = 1;
  for (size_t row = 0; row * dimension < a.size(); ++row) {
    double dot = 0, aa = 0, bb = 0;
    for (size_t c = row * dimension; c < (row + 1) * dimension; ++c) {
      dot += static_cast<double>(a[c]) * b[c];
      aa += static_cast<double>(a[c]) * a[c];
      bb += static_cast<double>(b[c]) * b[c];
    }
    worst = std::min(worst, dot / std::sqrt(aa * bb));
  }
  return worst;
}

// Calls `run` (one unit of `sentences` sentences, `tokens` tokens, `flops` operations) after one
// warm-up until `seconds` have passed.
template <typename Run>
Measurement Measure(const std::string& workload, int threads, double seconds, size_t sentences,
                    size_t tokens, double flops, Run run) {
  run();
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  size_t rounds = 0;
  do {
    run();
    ++rounds;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < seconds);
  return {workload,
          "",
          threads,
          rounds * sentences / elapsed,
          rounds * tokens / elapsed,
          rounds * flops / elapsed / 1e9,
          ResidentMiB().first};
}

// ONNX Runtime's sentences/s keyed by (workload, threads), from its JSON lines.
std::map<std::pair<std::string, int>, double> ReadOrt(const std::string& path) {
  std::map<std::pair<std::string, int>, double> results;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.contains("sentences_per_s")) continue;
    const std::string workload = record.contains("workload")
                                     ? record["workload"].get<std::string>()
                                     : absl::StrFormat("seq%d", record["seq"].get<int>());
    results[{workload, record["threads"].get<int>()}] = record["sentences_per_s"].get<double>();
  }
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) {
    std::cerr << "usage: encoder_bench --model DIR [--threads 1,2] [--batch 32] [--seqs 16,64,128] "
                 "[--seconds 3] [--scifact corpus.jsonl --docs 512] [--ort ort.jsonl] "
                 "[--write-ids ids.jsonl] [--precisions fp32,bf16]\n";
    return 2;
  }
  const std::vector<std::string> scifact =
      flags.scifact.empty() ? std::vector<std::string>() : ReadSciFact(flags.scifact, flags.docs);
  std::vector<Measurement> results;
  for (const int threads : flags.threads) {
    // fp32 vectors of the SciFact texts and of the longest fixed shape, to compare other
    // precisions.
    std::vector<float> fp32_scifact, fp32_fixed;
    for (const std::string& precision_name : flags.precisions) {
      EncoderOptions options;
      options.threads = threads;
      options.batch_size = flags.batch;
      const auto precision = precision_name == "bf16" ? ember::embed::LinearPrecision::kBfloat16
                                                      : ember::embed::LinearPrecision::kFloat32;
      auto loaded = TransformerEncoder::Load(flags.model, options, precision);
      if (!loaded.ok()) {
        std::cerr << "encoder_bench: " << loaded.status() << "\n";
        return 1;
      }
      const TransformerEncoder& encoder = **loaded;
      if (!flags.write_ids.empty()) {
        std::ofstream out(flags.write_ids);
        for (const std::string& text : scifact) {
          out << nlohmann::json{{"input_ids", encoder.Tokenize(text, EmbedRole::kDocument)}}.dump()
              << "\n";
        }
        return 0;
      }
      const size_t first = results.size();
      std::vector<float> fixed_vectors;
      for (const int length : flags.seqs) {
        const auto ids = FixedShapeIds(flags.batch, length);
        const std::vector<int> lengths(flags.batch, length);
        results.push_back(Measure(absl::StrFormat("seq%d", length), threads, flags.seconds,
                                  flags.batch, flags.batch * length,
                                  encoder.model().ForwardFlops(lengths), [&] {
                                    if (!encoder.EmbedTokenIds(ids).ok()) std::abort();
                                  }));
        fixed_vectors = *encoder.EmbedTokenIds(ids);
      }
      std::vector<float> scifact_vectors;
      if (!scifact.empty()) {
        std::vector<int> lengths;
        size_t tokens = 0;
        for (const std::string& text : scifact) {
          lengths.push_back(encoder.Tokenize(text, EmbedRole::kDocument).size());
          tokens += lengths.back();
        }
        results.push_back(Measure("scifact", threads, flags.seconds, scifact.size(), tokens,
                                  encoder.model().ForwardFlops(lengths), [&] {
                                    if (!encoder.Embed(scifact, EmbedRole::kDocument).ok()) {
                                      std::abort();
                                    }
                                  }));
        scifact_vectors = *encoder.Embed(scifact, EmbedRole::kDocument);
      }
      if (precision == ember::embed::LinearPrecision::kFloat32) {
        fp32_scifact = scifact_vectors;
        fp32_fixed = fixed_vectors;
      }
      double worst = 1;
      if (precision != ember::embed::LinearPrecision::kFloat32 && !fp32_fixed.empty()) {
        worst = std::min(MinCosine(fixed_vectors, fp32_fixed, encoder.dimension()),
                         fp32_scifact.empty()
                             ? 1.0
                             : MinCosine(scifact_vectors, fp32_scifact, encoder.dimension()));
      }
      for (size_t i = first; i < results.size(); ++i) {
        results[i].precision = precision_name;
        results[i].min_cosine_to_fp32 = worst;
      }
    }
  }
  const auto ort =
      flags.ort.empty() ? std::map<std::pair<std::string, int>, double>() : ReadOrt(flags.ort);
  const double peak = ResidentMiB().second;
  std::printf("linear-layer kernel: %s\n", ember::embed::LinearKernelName());
  std::printf("%-9s %-5s %7s %12s %12s %9s %12s %9s %8s %10s\n", "workload", "prec", "threads",
              "sentences/s", "tokens/s", "GFLOP/s", "ORT sent/s", "ratio", "RSS MiB", "cos(fp32)");
  for (const Measurement& m : results) {
    const auto it = ort.find({m.workload, m.threads});
    const std::string ort_text = it == ort.end() ? "n/a" : absl::StrFormat("%.1f", it->second);
    const std::string ratio =
        it == ort.end() ? "n/a" : absl::StrFormat("%.2fx", m.sentences_per_s / it->second);
    std::printf("%-9s %-5s %7d %12.1f %12.0f %9.1f %12s %9s %8.0f %10.6f\n", m.workload.c_str(),
                m.precision.c_str(), m.threads, m.sentences_per_s, m.tokens_per_s, m.gflops,
                ort_text.c_str(), ratio.c_str(), m.rss_mib, m.min_cosine_to_fp32);
  }
  std::printf("peak resident memory: %.0f MiB\n", peak);
  for (const Measurement& m : results) {
    nlohmann::json line = {{"engine", "ember"},
                           {"precision", m.precision},
                           {"workload", m.workload},
                           {"batch", flags.batch},
                           {"threads", m.threads},
                           {"sentences_per_s", m.sentences_per_s},
                           {"tokens_per_s", m.tokens_per_s},
                           {"gflops", m.gflops},
                           {"rss_mib", m.rss_mib},
                           {"peak_rss_mib", peak},
                           {"kernel", ember::embed::LinearKernelName()},
                           {"min_cosine_to_fp32", m.min_cosine_to_fp32}};
    const auto it = ort.find({m.workload, m.threads});
    if (it != ort.end()) {
      line["ort_sentences_per_s"] = it->second;
      line["ratio_to_ort"] = m.sentences_per_s / it->second;
    }
    std::printf("%s\n", line.dump().c_str());
  }
  return 0;
}
