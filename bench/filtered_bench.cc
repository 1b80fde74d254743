// filtered_bench: filtered nearest-neighbour search at every selectivity, against the two naive
// methods, in the same run on the same vectors and queries:
//   faiss-sel  raw faiss::IndexHNSWFlat (same M, ef_construction) searched with an ID selector at
//   the
//              collection's ef_search (FAISS 1.7.3's filtered traversal);
//   exact      exact scoring of the filtered set (every matching vector, a heap of 10).
// The naive methods are handed the matching ids ready-made (not timed); Ember evaluates the filter
// itself from its attribute indexes, inside the timed call. The exact method's answers are the
// ground truth for recall@10.
//
// Data sets:
//   glove    GloVe-100 (scripts/fetch-ann-data.sh), cosine. Every vector gets attributes of
//            controlled selectivity: `category` uniform in 0..999, `percentile` uniform in 0..99,
//            `tags` (a list: "t0.1" with probability 0.1%, "t0.5", "t1", "t5", "t10", "t50"), and
//            `cluster`, its k-means cluster (1,000 clusters). Cluster filters are built per query:
//            "near" takes the clusters whose centroids are nearest the query until the target
//            selectivity is reached (correlated with the query), "far" the farthest
//            (anti-correlated: the answers lie far from the query).
//   netflix  the 8,807 titles of ../shared/data/netflix with their real attributes (type,
//            release_year, rating, country and listed_in as lists, director not indexed);
//            vectors from Ember's default static encoder on the descriptions, queries from 500
//            titles' names.
// The collection and the FAISS index are kept in --db-dir and reused by later runs with the same
// data and parameters (the GloVe build takes minutes); --rebuild forces a new build.
//
// Output: per point, the filter, its mean selectivity, then for each method recall@10 and
// queries/s (one thread, one query per call), and Ember's plans; one JSON line per method and
// point. The last column says whether Ember met the bar at that point: recall >= 0.95, and
// queries/s at least the faster of the naive methods that reach recall 0.95.
//
//   filtered_bench --dataset glove|netflix [--data-dir data/ann] [--shared-dir ../shared]
//                  [--model-dir models/default] [--db-dir /tmp/ember_filtered_bench] [--limit N]
//                  [--queries 500] [--m 16] [--ef-construction 200] [--ef 256] [--repeat 3]
//                  [--only TEXT] [--rebuild 1]

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/bench_common.h"
#include "embed/encoder.h"
#include "ember/ember.h"
#include "faiss/Clustering.h"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/impl/IDSelector.h"
#include "faiss/index_io.h"
#include "faiss/utils/distances.h"

namespace ember::bench {
namespace {

constexpr int kRecallAt = 10;
constexpr double kRecallBar = 0.95;
constexpr int kGloveClusters = 1000;

struct Flags {
  std::string dataset = "glove";
  std::string data_dir = "data/ann";
  std::string shared_dir = "../shared";
  std::string model_dir = "models/default";
  std::string db_dir = "/tmp/ember_filtered_bench";
  int64_t limit = 0;
  int64_t queries = 500;
  int m = 16;
  int ef_construction = 200;
  int ef = 256;
  std::string only;  // run only the points whose filter text contains this
  int repeat = 3;
  bool rebuild = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  const BenchFlag table[] = {
      {"dataset", &flags.dataset},
      {"data-dir", &flags.data_dir},
      {"shared-dir", &flags.shared_dir},
      {"model-dir", &flags.model_dir},
      {"db-dir", &flags.db_dir},
      {"limit", &flags.limit},
      {"queries", &flags.queries},
      {"m", &flags.m},
      {"ef-construction", &flags.ef_construction},
      {"ef", &flags.ef},
      {"repeat", &flags.repeat},
      {"only", &flags.only},
      {"rebuild", &flags.rebuild},
  };
  EMBER_RETURN_IF_ERROR(ParseBenchFlags(argc, argv, table));
  if (flags.dataset != "glove" && flags.dataset != "netflix") {
    return absl::InvalidArgumentError("--dataset must be glove or netflix");
  }
  if (flags.queries <= 0 || flags.ef <= 0 || flags.repeat <= 0) {
    return absl::InvalidArgumentError("--queries, --ef and --repeat must be positive");
  }
  return flags;
}

// The ids (row numbers) a filter selects, in increasing order.
using Selection = std::vector<int64_t>;

// One measurement point: a filter, given both as Ember sees it and as the naive methods see it.
struct Point {
  std::string family;
  std::string text;  // the filter as written (per-query filters: a description)
  // The filter and the rows it selects for query q. Point-wide filters ignore q.
  std::function<Filter(int64_t q)> filter;
  std::function<Selection(int64_t q)> select;
  bool per_query = false;
};

struct Corpus {
  std::string name;
  int dim = 0;
  int64_t n = 0;
  std::vector<float> base;     // normalized, row-major
  std::vector<float> queries;  // normalized, row-major
  int64_t n_query = 0;
  std::vector<Attributes> attributes;
  std::vector<AttributeSpec> schema;
  std::vector<std::string> texts;  // stored with the documents when present
  std::vector<Point> points;
  std::string cache_key;  // identifies the data and its attributes, for reusing built indexes
};

Selection SelectRows(int64_t n, const std::function<bool(int64_t)>& keep) {
  Selection rows;
  for (int64_t i = 0; i < n; ++i) {
    if (keep(i)) rows.push_back(i);
  }
  return rows;
}

Point Fixed(std::string family, std::string text, int64_t n,
            const std::function<bool(int64_t)>& keep) {
  auto filter = ParseFilter(text);
  if (!filter.ok()) {
    std::cerr << "filtered_bench: bad filter " << text << ": " << filter.status() << "\n";
    std::exit(1);
  }
  auto rows = std::make_shared<Selection>(SelectRows(n, keep));
  return {.family = std::move(family),
          .text = std::move(text),
          .filter = [f = *filter](int64_t) { return f; },
          .select = [rows](int64_t) { return *rows; }};
}

// ---------------------------------------------------------------------------------------------
// GloVe with synthetic attributes.

const std::vector<std::pair<std::string, double>>& GloveTags() {
  static const auto* tags = new std::vector<std::pair<std::string, double>>{
      {"t0.1", 0.001}, {"t0.5", 0.005}, {"t1", 0.01}, {"t5", 0.05}, {"t10", 0.10}, {"t50", 0.50}};
  return *tags;
}

struct GloveAttributes {
  std::vector<int> category, percentile, cluster;
  std::vector<uint8_t> tag_bits;  // bit t: has GloveTags()[t]
  std::vector<float> centroids;
  std::vector<std::vector<int64_t>> members;  // rows per cluster
  std::vector<int> query_cluster_order;       // per query: clusters nearest first
};

absl::Status LoadGlove(const Flags& flags, Corpus* corpus) {
  const std::string dir = flags.data_dir + "/glove-100-angular";
  EMBER_ASSIGN_OR_RETURN(corpus->base, ReadFvecs(dir + "/base.fvecs", flags.limit, &corpus->dim));
  EMBER_ASSIGN_OR_RETURN(corpus->queries,
                         ReadFvecs(dir + "/query.fvecs", flags.queries, &corpus->dim));
  const int d = corpus->dim;
  const int64_t n = corpus->n = static_cast<int64_t>(corpus->base.size()) / d;
  corpus->n_query = static_cast<int64_t>(corpus->queries.size()) / d;
  faiss::fvec_renorm_L2(d, n, corpus->base.data());
  faiss::fvec_renorm_L2(d, corpus->n_query, corpus->queries.data());

  auto attrs = std::make_shared<GloveAttributes>();
  std::mt19937_64 rng(20261123);
  std::uniform_int_distribution<int> thousand(0, 999), hundred(0, 99);
  std::uniform_real_distribution<double> unit(0, 1);
  attrs->category.resize(n);
  attrs->percentile.resize(n);
  attrs->tag_bits.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    attrs->category[i] = thousand(rng);
    attrs->percentile[i] = hundred(rng);
    for (size_t t = 0; t < GloveTags().size(); ++t) {
      if (unit(rng) < GloveTags()[t].second) attrs->tag_bits[i] |= 1 << t;
    }
  }

  // k-means on a sample, then every row and query assigned to its nearest centroid.
  const int clusters = static_cast<int>(std::min<int64_t>(kGloveClusters, n / 40));
  std::cerr << "k-means: " << clusters << " clusters...\n";
  attrs->centroids.resize(static_cast<size_t>(clusters) * d);
  try {
    faiss::ClusteringParameters params;
    params.niter = 10;
    params.seed = 1234;
    params.max_points_per_centroid = 100;
    params.spherical = true;
    faiss::Clustering clustering(d, clusters, params);
    faiss::IndexFlatIP assigner(d);
    clustering.train(n, corpus->base.data(), assigner);
    std::copy(clustering.centroids.begin(), clustering.centroids.end(), attrs->centroids.begin());
    faiss::IndexFlatIP centroid_index(d);
    centroid_index.add(clusters, attrs->centroids.data());
    std::vector<float> distance(n);
    std::vector<faiss::Index::idx_t> nearest(n);
    centroid_index.search(n, corpus->base.data(), 1, distance.data(), nearest.data());
    attrs->cluster.assign(nearest.begin(), nearest.end());
    // Every centroid ranked for every query, nearest first.
    std::vector<float> query_distance(corpus->n_query * clusters);
    std::vector<faiss::Index::idx_t> order(corpus->n_query * clusters);
    centroid_index.search(corpus->n_query, corpus->queries.data(), clusters, query_distance.data(),
                          order.data());
    attrs->query_cluster_order.assign(order.begin(), order.end());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("k-means: ", e.what()));
  }
  attrs->members.resize(clusters);
  for (int64_t i = 0; i < n; ++i) attrs->members[attrs->cluster[i]].push_back(i);

  corpus->attributes.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<std::string> tags;
    for (size_t t = 0; t < GloveTags().size(); ++t) {
      if (attrs->tag_bits[i] & (1 << t)) tags.push_back(GloveTags()[t].first);
    }
    corpus->attributes[i] = {{"category", int64_t{attrs->category[i]}},
                             {"percentile", int64_t{attrs->percentile[i]}},
                             {"cluster", int64_t{attrs->cluster[i]}},
                             {"tags", std::move(tags)}};
  }
  corpus->schema = {{.name = "category", .type = AttributeType::kInt},
                    {.name = "percentile", .type = AttributeType::kInt},
                    {.name = "cluster", .type = AttributeType::kInt},
                    {.name = "tags", .type = AttributeType::kStringList}};
  corpus->cache_key = absl::StrCat("glove-", n, "-c", clusters);

  const auto tag = [attrs](int t) {
    return [attrs, t](int64_t i) { return (attrs->tag_bits[i] >> t & 1) != 0; };
  };
  auto& points = corpus->points;
  points.push_back(
      Fixed("category", "category = 7", n, [attrs](int64_t i) { return attrs->category[i] == 7; }));
  points.push_back(Fixed("category", "category IN (1, 100, 200, 300, 999)", n, [attrs](int64_t i) {
    const int c = attrs->category[i];
    return c == 1 || c == 100 || c == 200 || c == 300 || c == 999;
  }));
  for (int p : {1, 5, 10, 50}) {
    points.push_back(Fixed("range", absl::StrCat("percentile < ", p), n,
                           [attrs, p](int64_t i) { return attrs->percentile[i] < p; }));
  }
  points.push_back(Fixed("range", "percentile BETWEEN 0 AND 99", n, [](int64_t) { return true; }));
  for (size_t t = 0; t < GloveTags().size(); ++t) {
    points.push_back(Fixed("tags", absl::StrCat("tags CONTAINS '", GloveTags()[t].first, "'"), n,
                           tag(static_cast<int>(t))));
  }
  // Two attributes: independent ANDs at each selectivity.
  points.push_back(Fixed("and", "category < 10 AND percentile < 10", n, [attrs](int64_t i) {
    return attrs->category[i] < 10 && attrs->percentile[i] < 10;
  }));
  points.push_back(Fixed("and", "category < 50 AND percentile < 10", n, [attrs](int64_t i) {
    return attrs->category[i] < 50 && attrs->percentile[i] < 10;
  }));
  points.push_back(
      Fixed("and", "percentile < 10 AND tags CONTAINS 't10'", n,
            [attrs, t10 = tag(4)](int64_t i) { return attrs->percentile[i] < 10 && t10(i); }));
  points.push_back(
      Fixed("and", "percentile < 50 AND tags CONTAINS 't10'", n,
            [attrs, t10 = tag(4)](int64_t i) { return attrs->percentile[i] < 50 && t10(i); }));
  points.push_back(
      Fixed("and", "percentile < 20 AND tags CONTAINS 't50'", n,
            [attrs, t50 = tag(5)](int64_t i) { return attrs->percentile[i] < 20 && t50(i); }));
  points.push_back(Fixed("and", "category >= 0 AND tags CONTAINS 't50'", n, tag(5)));

  // Cluster filters, per query: the nearest (or farthest) clusters until `selectivity` of rows.
  const auto cluster_point = [&, attrs, n](double selectivity, bool near, bool with_tag) {
    auto chosen = [attrs, n, selectivity, near, clusters](int64_t q) {
      std::vector<int> picked;
      int64_t rows = 0;
      for (int r = 0; r < clusters && rows < selectivity * n; ++r) {
        const int rank = near ? r : clusters - 1 - r;
        const int c = attrs->query_cluster_order[q * clusters + rank];
        picked.push_back(c);
        rows += static_cast<int64_t>(attrs->members[c].size());
      }
      return picked;
    };
    Point point;
    point.family = absl::StrCat("cluster-", near ? "near" : "far", with_tag ? "+tag" : "");
    point.text = absl::StrCat("cluster IN (", near ? "nearest" : "farthest",
                              " clusters: ", selectivity * 100, "%)",
                              with_tag ? " AND tags CONTAINS 't50'" : "");
    point.per_query = true;
    point.filter = [chosen, with_tag](int64_t q) {
      std::vector<Literal> values;
      for (int c : chosen(q)) values.push_back(int64_t{c});
      Filter in = Filter::In("cluster", std::move(values));
      return with_tag ? Filter::And(std::move(in), Filter::Contains("tags", "t50")) : in;
    };
    point.select = [chosen, attrs, with_tag](int64_t q) {
      Selection rows;
      for (int c : chosen(q)) {
        for (int64_t i : attrs->members[c]) {
          if (!with_tag || (attrs->tag_bits[i] >> 5 & 1)) rows.push_back(i);
        }
      }
      std::sort(rows.begin(), rows.end());
      return rows;
    };
    return point;
  };
  for (bool near : {true, false}) {
    for (double s : {0.001, 0.005, 0.01, 0.05, 0.10, 0.50}) {
      points.push_back(cluster_point(s, near, false));
    }
    for (double s : {0.002, 0.01, 0.02, 0.10, 0.20, 1.0}) {
      points.push_back(cluster_point(s, near, true));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Netflix: real attributes.

// Splits one RFC 4180 record (quoted fields may hold commas, quotes doubled, and line breaks)
// from `in`; false at the end of input.
bool ReadCsvRecord(std::istream& in, std::vector<std::string>* fields) {
  fields->clear();
  std::string field;
  bool quoted = false, any = false;
  for (int c; (c = in.get()) != EOF;) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          field += static_cast<char>(in.get());
        } else {
          quoted = false;
        }
      } else {
        field += static_cast<char>(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      field += static_cast<char>(c);
    }
  }
  if (!any) return false;
  fields->push_back(std::move(field));
  return true;
}

struct Title {
  std::string type, rating, director;
  int64_t year = 0;
  std::vector<std::string> countries, genres;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) parts.emplace_back(part);
  }
  return parts;
}

bool Has(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

absl::Status LoadNetflix(const Flags& flags, Corpus* corpus) {
  const std::string path = flags.shared_dir + "/data/netflix/netflix_titles.csv";
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": missing (../shared is not here)"));
  std::vector<std::string> fields;
  ReadCsvRecord(in, &fields);  // header
  const std::vector<std::string> header = fields;
  if (header.size() != 12 || header[0] != "show_id" || header[11] != "description") {
    return absl::InvalidArgumentError(absl::StrCat(path, ": unexpected header"));
  }
  auto titles = std::make_shared<std::vector<Title>>();
  std::vector<std::string> names;
  while (ReadCsvRecord(in, &fields)) {
    if (fields.size() != header.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": record ", titles->size() + 2, " has ", fields.size(), " fields"));
    }
    Title title{.type = fields[1], .rating = fields[8], .director = fields[3]};
    if (!absl::SimpleAtoi(fields[7], &title.year)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": bad release_year ", fields[7]));
    }
    title.countries = SplitList(fields[5]);
    title.genres = SplitList(fields[10]);
    Attributes attributes{{"type", title.type},
                          {"release_year", title.year},
                          {"listed_in", title.genres},
                          {"title", fields[2]}};
    // Absent values stay absent, so that IS NULL finds them.
    if (!title.rating.empty()) attributes["rating"] = title.rating;
    if (!title.countries.empty()) attributes["country"] = title.countries;
    if (!title.director.empty()) attributes["director"] = title.director;
    corpus->attributes.push_back(std::move(attributes));
    corpus->texts.push_back(fields[11]);
    names.push_back(fields[2]);
    titles->push_back(std::move(title));
  }
  corpus->n = static_cast<int64_t>(titles->size());
  corpus->schema = {{.name = "type", .type = AttributeType::kString},
                    {.name = "release_year", .type = AttributeType::kInt},
                    {.name = "rating", .type = AttributeType::kString},
                    {.name = "country", .type = AttributeType::kStringList},
                    {.name = "listed_in", .type = AttributeType::kStringList},
                    {.name = "director", .type = AttributeType::kString},
                    {.name = "title", .type = AttributeType::kString, .indexed = false}};

  std::cerr << "embedding " << corpus->n << " descriptions with " << flags.model_dir << "...\n";
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<embed::Encoder> encoder,
                         embed::LoadEncoder(flags.model_dir));
  corpus->dim = encoder->dimension();
  EMBER_ASSIGN_OR_RETURN(corpus->base, encoder->Embed(corpus->texts, embed::EmbedRole::kDocument));
  // Queries: titles' names, in a fixed random order; names without a known word embed to zero
  // and are skipped.
  std::vector<int64_t> order(corpus->n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
  std::vector<std::string> query_texts;
  for (int64_t i : order) query_texts.push_back(names[i]);
  EMBER_ASSIGN_OR_RETURN(std::vector<float> query_vectors,
                         encoder->Embed(query_texts, embed::EmbedRole::kQuery));
  const int d = corpus->dim;
  for (size_t i = 0; i < query_texts.size() && corpus->n_query < flags.queries; ++i) {
    const float* v = query_vectors.data() + i * d;
    if (faiss::fvec_norm_L2sqr(v, d) == 0) continue;
    corpus->queries.insert(corpus->queries.end(), v, v + d);
    ++corpus->n_query;
  }
  // Zero document vectors (descriptions with no known word) are stored as they are.
  for (int64_t i = 0; i < corpus->n; ++i) {
    float* v = corpus->base.data() + i * d;
    const float norm = std::sqrt(faiss::fvec_norm_L2sqr(v, d));
    if (norm > 0) {
      for (int j = 0; j < d; ++j) v[j] /= norm;
    }
  }
  faiss::fvec_renorm_L2(d, corpus->n_query, corpus->queries.data());
  corpus->cache_key = absl::StrCat("netflix-", corpus->n, "-", encoder->fingerprint());

  const int64_t n = corpus->n;
  const auto t = [titles](auto keep) {
    return [titles, keep](int64_t i) { return keep((*titles)[i]); };
  };
  auto& points = corpus->points;
  points.push_back(Fixed("netflix", "director = 'Martin Scorsese'", n,
                         t([](const Title& x) { return x.director == "Martin Scorsese"; })));
  points.push_back(
      Fixed("netflix", "rating = 'G'", n, t([](const Title& x) { return x.rating == "G"; })));
  points.push_back(
      Fixed("netflix", "release_year >= 2015 AND country CONTAINS 'Nigeria'", n,
            t([](const Title& x) { return x.year >= 2015 && Has(x.countries, "Nigeria"); })));
  points.push_back(Fixed("netflix", "country CONTAINS 'South Korea'", n,
                         t([](const Title& x) { return Has(x.countries, "South Korea"); })));
  points.push_back(
      Fixed("netflix", "release_year < 1990", n, t([](const Title& x) { return x.year < 1990; })));
  points.push_back(Fixed("netflix", "rating IN ('TV-Y', 'TV-Y7', 'G')", n, t([](const Title& x) {
                           return x.rating == "TV-Y" || x.rating == "TV-Y7" || x.rating == "G";
                         })));
  points.push_back(Fixed("netflix", "country IS NULL", n,
                         t([](const Title& x) { return x.countries.empty(); })));
  points.push_back(Fixed("netflix", "listed_in CONTAINS 'Documentaries'", n,
                         t([](const Title& x) { return Has(x.genres, "Documentaries"); })));
  points.push_back(
      Fixed("netflix", "release_year >= 2015 AND country CONTAINS 'India'", n,
            t([](const Title& x) { return x.year >= 2015 && Has(x.countries, "India"); })));
  points.push_back(Fixed("netflix", "country CONTAINS ANY ('France', 'Germany', 'Spain')", n,
                         t([](const Title& x) {
                           return Has(x.countries, "France") || Has(x.countries, "Germany") ||
                                  Has(x.countries, "Spain");
                         })));
  points.push_back(Fixed("netflix", "listed_in CONTAINS ALL ('Dramas', 'International Movies')", n,
                         t([](const Title& x) {
                           return Has(x.genres, "Dramas") && Has(x.genres, "International Movies");
                         })));
  points.push_back(Fixed(
      "netflix", "NOT (type = 'Movie') AND release_year BETWEEN 2010 AND 2019", n,
      t([](const Title& x) { return x.type != "Movie" && x.year >= 2010 && x.year <= 2019; })));
  points.push_back(Fixed("netflix", "type = 'TV Show'", n,
                         t([](const Title& x) { return x.type == "TV Show"; })));
  points.push_back(Fixed("netflix", "release_year >= 2015", n,
                         t([](const Title& x) { return x.year >= 2015; })));
  points.push_back(
      Fixed("netflix", "type IN ('Movie', 'TV Show')", n, [](int64_t) { return true; }));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Indexes: Ember's collection and the FAISS graph, built once and reused.

CollectionSpec EmberSpec(const Corpus& corpus, const Flags& flags) {
  CollectionSpec spec{.name = "filtered", .dimension = corpus.dim, .metric = Metric::kCosine};
  spec.index.kind = IndexKind::kHnsw;
  spec.index.hnsw = {.m = flags.m, .ef_construction = flags.ef_construction, .ef_search = flags.ef};
  spec.attributes = corpus.schema;
  return spec;
}

absl::StatusOr<std::shared_ptr<Collection>> OpenOrBuildEmber(const Corpus& corpus,
                                                             const Flags& flags,
                                                             const std::string& path,
                                                             std::unique_ptr<Database>* db) {
  const std::string marker = path + ".complete";
  std::string built;
  std::ifstream(marker) >> built;
  if (built == corpus.cache_key && !flags.rebuild) {
    EMBER_ASSIGN_OR_RETURN(*db, Database::Open(path));
    EMBER_ASSIGN_OR_RETURN(auto collection, (*db)->GetCollection("filtered"));
    if (collection->Count() == corpus.n) {
      std::cerr << "ember: reusing " << path << "\n";
      return collection;
    }
    db->reset();
  }
  std::filesystem::remove(marker);
  std::filesystem::remove_all(path);
  const auto start = std::chrono::steady_clock::now();
  EMBER_ASSIGN_OR_RETURN(*db, Database::Open(path));
  EMBER_ASSIGN_OR_RETURN(auto collection, (*db)->CreateCollection(EmberSpec(corpus, flags)));
  constexpr int64_t kBatch = 1000;
  std::vector<Document> batch;
  for (int64_t begin = 0; begin < corpus.n; begin += kBatch) {
    batch.clear();
    for (int64_t i = begin; i < std::min(begin + kBatch, corpus.n); ++i) {
      const float* v = corpus.base.data() + i * corpus.dim;
      Document document{.id = std::to_string(i),
                        .attributes = corpus.attributes[i],
                        .vector = std::vector<float>(v, v + corpus.dim)};
      if (!corpus.texts.empty()) document.text = corpus.texts[i];
      batch.push_back(std::move(document));
    }
    EMBER_RETURN_IF_ERROR(collection->Upsert(batch));
    std::cerr << absl::StrFormat("\rember: %d / %d (%.0f/s)   ", begin + batch.size(), corpus.n,
                                 (begin + batch.size()) / Seconds(start));
  }
  EMBER_RETURN_IF_ERROR((*db)->Checkpoint());
  std::cerr << absl::StrFormat("\nember: built in %.1f s\n", Seconds(start));
  std::ofstream(marker) << corpus.cache_key;
  return collection;
}

absl::StatusOr<std::unique_ptr<faiss::IndexHNSWFlat>> OpenOrBuildFaiss(const Corpus& corpus,
                                                                       const Flags& flags,
                                                                       const std::string& path) {
  try {
    if (std::filesystem::exists(path) && !flags.rebuild) {
      std::unique_ptr<faiss::Index> index(faiss::read_index(path.c_str()));
      auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(index.get());
      if (hnsw != nullptr && hnsw->ntotal == corpus.n) {
        index.release();
        std::cerr << "faiss: reusing " << path << "\n";
        return std::unique_ptr<faiss::IndexHNSWFlat>(hnsw);
      }
    }
    const auto start = std::chrono::steady_clock::now();
    auto index =
        std::make_unique<faiss::IndexHNSWFlat>(corpus.dim, flags.m, faiss::METRIC_INNER_PRODUCT);
    index->hnsw.efConstruction = flags.ef_construction;
    constexpr int64_t kBatch = 10000;
    for (int64_t begin = 0; begin < corpus.n; begin += kBatch) {
      index->add(std::min(kBatch, corpus.n - begin), corpus.base.data() + begin * corpus.dim);
    }
    faiss::write_index(index.get(), (path + ".tmp").c_str());
    std::filesystem::rename(path + ".tmp", path);
    std::cerr << absl::StrFormat("faiss: built in %.1f s\n", Seconds(start));
    return index;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("FAISS: ", e.what()));
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement.

struct MethodResult {
  int64_t hits = 0;           // true neighbours found, over all queries
  int64_t short_answers = 0;  // queries answered with fewer than min(k, matching) results
  double seconds = 0;
  std::map<std::string, int> plans;
  int64_t ef_sum = 0;
};

std::vector<int64_t> ExactTopK(const float* query, const Corpus& corpus, const Selection& rows) {
  std::vector<std::pair<float, int64_t>> heap;  // min-heap on similarity
  heap.reserve(kRecallAt + 1);
  const auto worse = [](const auto& a, const auto& b) { return a.first > b.first; };
  for (int64_t i : rows) {
    const float similarity =
        faiss::fvec_inner_product(query, corpus.base.data() + i * corpus.dim, corpus.dim);
    if (heap.size() < kRecallAt) {
      heap.push_back({similarity, i});
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (similarity > heap.front().first) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = {similarity, i};
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  std::vector<int64_t> ids;
  for (const auto& [similarity, i] : heap) ids.push_back(i);
  return ids;
}

int64_t CountHits(const std::vector<int64_t>& truth, const std::vector<int64_t>& found) {
  int64_t hits = 0;
  for (int64_t id : found) hits += std::count(truth.begin(), truth.end(), id) > 0;
  return hits;
}

std::string PlansText(const MethodResult& result) {
  std::vector<std::string> parts;
  for (const auto& [plan, count] : result.plans) parts.push_back(absl::StrCat(plan, " ", count));
  return absl::StrJoin(parts, ", ");
}

absl::Status Run(const Flags& flags) {
  Corpus corpus;
  corpus.name = flags.dataset;
  EMBER_RETURN_IF_ERROR(flags.dataset == "glove" ? LoadGlove(flags, &corpus)
                                                 : LoadNetflix(flags, &corpus));
  std::filesystem::create_directories(flags.db_dir);
  const std::string stem =
      absl::StrCat(flags.db_dir, "/", corpus.name, "-m", flags.m, "-efc", flags.ef_construction);
  std::unique_ptr<Database> db;
  // The two builds use a core each.
  absl::StatusOr<std::unique_ptr<faiss::IndexHNSWFlat>> faiss_index;
  std::thread faiss_builder([&] {
    omp_set_num_threads(1);
    faiss_index = OpenOrBuildFaiss(corpus, flags, stem + ".faiss");
  });
  auto collection = OpenOrBuildEmber(corpus, flags, stem + ".ember", &db);
  faiss_builder.join();
  EMBER_RETURN_IF_ERROR(collection.status());
  EMBER_RETURN_IF_ERROR(faiss_index.status());
  omp_set_num_threads(1);

  std::cout << absl::StrFormat(
      "dataset %s: %d vectors x %d dims, %d queries, cosine; HNSW M=%d ef_construction=%d, "
      "collection ef_search=%d (also FAISS's); recall@%d against exact filtered search\n",
      corpus.name, corpus.n, corpus.dim, corpus.n_query, flags.m, flags.ef_construction, flags.ef,
      kRecallAt);
  std::cout << absl::StrFormat("%-16s %-52s %8s | %-23s | %-17s | %-17s | %s\n", "family", "filter",
                               "select%", "ember recall    q/s", "faiss-sel rec q/s",
                               "exact rec   q/s", "bar");
  int points_met = 0, points_run = 0;
  for (const Point& point : corpus.points) {
    if (!flags.only.empty() && point.text.find(flags.only) == std::string::npos) continue;
    Selection shared_rows;
    if (!point.per_query) shared_rows = point.select(0);
    Filter shared_filter = point.filter(0);
    // Each method answers every query in a pass of its own, with its working set warm as in a real
    // workload; the passes run --repeat times in turn and each method keeps its fastest. The exact
    // method's answers are the ground truth.
    Selection per_query_rows;
    const auto rows_of = [&](int64_t q) -> const Selection& {
      if (!point.per_query) return shared_rows;
      per_query_rows = point.select(q);
      return per_query_rows;
    };
    std::vector<std::vector<int64_t>> truth(corpus.n_query);
    std::vector<int64_t> wanted(corpus.n_query);
    double selected = 0;
    int64_t expected_hits = 0;
    for (int64_t q = 0; q < corpus.n_query; ++q) {
      const Selection& rows = rows_of(q);
      selected += static_cast<double>(rows.size()) / corpus.n;
      wanted[q] = std::min<int64_t>(kRecallAt, static_cast<int64_t>(rows.size()));
      expected_hits += wanted[q];
    }
    MethodResult ember, faiss_sel, exact;
    ember.seconds = faiss_sel.seconds = exact.seconds = std::numeric_limits<double>::infinity();
    std::vector<uint8_t> bitmap;
    std::vector<int64_t> found;
    for (int pass = 0; pass < flags.repeat; ++pass) {
      const bool first = pass == 0;
      double seconds = 0;
      for (int64_t q = 0; q < corpus.n_query; ++q) {
        const Selection& rows = rows_of(q);
        const auto start = std::chrono::steady_clock::now();
        std::vector<int64_t> top = ExactTopK(corpus.queries.data() + q * corpus.dim, corpus, rows);
        seconds += Seconds(start);
        if (!first) continue;
        exact.hits += static_cast<int64_t>(top.size());
        truth[q] = std::move(top);
      }
      exact.seconds = std::min(exact.seconds, seconds);

      seconds = 0;
      for (int64_t q = 0; q < corpus.n_query; ++q) {
        const Selection& rows = rows_of(q);
        bitmap.assign((corpus.n + 7) / 8, 0);
        for (int64_t i : rows) bitmap[i >> 3] |= 1 << (i & 7);
        faiss::IDSelectorBitmap selector(corpus.n, bitmap.data());
        faiss::SearchParametersHNSW params;
        params.efSearch = flags.ef;
        params.sel = &selector;
        float distances[kRecallAt];
        faiss::Index::idx_t labels[kRecallAt];
        const auto start = std::chrono::steady_clock::now();
        (*faiss_index)
            ->search(1, corpus.queries.data() + q * corpus.dim, kRecallAt, distances, labels,
                     &params);
        seconds += Seconds(start);
        if (!first) continue;
        found.clear();
        for (faiss::Index::idx_t label : labels) {
          if (label >= 0) found.push_back(label);
        }
        faiss_sel.hits += CountHits(truth[q], found);
        faiss_sel.short_answers += static_cast<int64_t>(found.size()) < wanted[q];
      }
      faiss_sel.seconds = std::min(faiss_sel.seconds, seconds);

      seconds = 0;
      for (int64_t q = 0; q < corpus.n_query; ++q) {
        const float* query = corpus.queries.data() + q * corpus.dim;
        const SearchRequest request{.vector = std::vector<float>(query, query + corpus.dim),
                                    .k = kRecallAt,
                                    .filter = point.per_query ? point.filter(q) : shared_filter,
                                    .include_text = false,
                                    .include_attributes = false};
        const auto start = std::chrono::steady_clock::now();
        EMBER_ASSIGN_OR_RETURN(SearchResponse response, (*collection)->Search(request));
        seconds += Seconds(start);
        if (!first) continue;
        found.clear();
        for (const SearchHit& hit : response.hits) {
          int64_t row;
          if (!absl::SimpleAtoi(hit.id, &row)) {
            return absl::InternalError("unexpected id " + hit.id);
          }
          found.push_back(row);
        }
        ember.hits += CountHits(truth[q], found);
        ember.short_answers += static_cast<int64_t>(found.size()) < wanted[q];
        ++ember.plans[response.plan.strategy];
        ember.ef_sum += response.plan.ef_search;
      }
      ember.seconds = std::min(ember.seconds, seconds);
    }
    const double selectivity = selected / corpus.n_query;
    const auto recall = [&](const MethodResult& r) {
      return expected_hits == 0 ? 1.0 : static_cast<double>(r.hits) / expected_hits;
    };
    const auto qps = [&](const MethodResult& r) { return corpus.n_query / r.seconds; };
    double bar_qps = 0;
    for (const MethodResult* naive : {&faiss_sel, &exact}) {
      if (recall(*naive) >= kRecallBar) bar_qps = std::max(bar_qps, qps(*naive));
    }
    const bool met =
        recall(ember) >= kRecallBar && ember.short_answers == 0 && qps(ember) >= bar_qps;
    points_met += met;
    ++points_run;
    std::cout << absl::StrFormat(
        "%-16s %-52s %8.3f | %6.4f %9.0f %-6s | %6.4f %9.0f | %6.4f %9.0f | %s  [%s%s]\n",
        point.family, point.text, 100 * selectivity, recall(ember), qps(ember),
        ember.short_answers > 0 ? "SHORT" : "", recall(faiss_sel), qps(faiss_sel), recall(exact),
        qps(exact), met ? "met" : "MISSED", PlansText(ember),
        ember.ef_sum > 0 ? absl::StrCat("; mean ef ", ember.ef_sum / corpus.n_query) : "");
    for (const auto& [method, result] :
         {std::pair<const char*, const MethodResult*>{"ember", &ember},
          {"faiss-sel", &faiss_sel},
          {"exact", &exact}}) {
      nlohmann::json line{{"bench", "filtered"},
                          {"dataset", corpus.name},
                          {"n", corpus.n},
                          {"queries", corpus.n_query},
                          {"family", point.family},
                          {"filter", point.text},
                          {"selectivity", selectivity},
                          {"method", method},
                          {"ef_search", flags.ef},
                          {"recall_at_10", recall(*result)},
                          {"qps", qps(*result)},
                          {"short_answers", result->short_answers}};
      if (result == &ember) {
        line["plans"] = result->plans;
        line["met_bar"] = met;
      }
      Report(line);
    }
  }
  std::cout << absl::StrFormat("bar met at %d of %d points\n", points_met, points_run);
  return absl::OkStatus();
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  auto flags = ember::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << "filtered_bench: " << flags.status().message() << "\n"
              << "usage: filtered_bench --dataset glove|netflix [--data-dir DIR] [--shared-dir DIR]"
                 " [--model-dir DIR] [--db-dir DIR] [--limit N] [--queries N] [--m 16]"
                 " [--ef-construction 200] [--ef 256] [--repeat 3] [--only TEXT] [--rebuild 1]\n";
    return 2;
  }
  const absl::Status status = ember::bench::Run(*flags);
  if (!status.ok()) {
    std::cerr << "filtered_bench: " << status << "\n";
    return 1;
  }
  return 0;
}
