// The shared fixture model (../shared/fixtures/bert-tiny-random) as the database and command tests
// use it: where it is, and how to turn a copy of it into another model.
#ifndef EMBER_TESTS_FIXTURE_MODEL_H_
#define EMBER_TESTS_FIXTURE_MODEL_H_

#include <fstream>
#include <string>

namespace ember::testing {

inline const std::string kFixtureModel = EMBER_SHARED_DIR "/fixtures/bert-tiny-random";
inline constexpr int kFixtureModelDimension = 32;

// Makes the model in `folder` (a copy of the fixture) another model as far as its vectors go: the
// same weights, CLS-pooled instead of mean-pooled, so its fingerprint differs.
inline void PoolWithCls(const std::string& folder) {
  std::ofstream pooling(folder + "/1_Pooling/config.json", std::ios::trunc);
  pooling << R"({"word_embedding_dimension": 32, "pooling_mode_cls_token": true,
                "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false,
                "pooling_mode_mean_sqrt_len_tokens": false})";
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_FIXTURE_MODEL_H_
