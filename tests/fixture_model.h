// The shared fixture model (../shared/fixtures/bert-tiny-random) as the database and command tests
// use it: where it is, and how to turn a copy of it into another model.
#ifndef EMBER_TESTS_FIXTURE_MODEL_H_
#define EMBER_TESTS_FIXTURE_MODEL_H_

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "ember/database.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "temp_dir.h"

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

// A test with its own copy of the fixture model (`model_`, which it may alter) and a database path
// (`db_path_`) in a fresh folder. Skips when ../shared is absent.
class FixtureModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kFixtureModel + "/config.json")) {
      GTEST_SKIP() << kFixtureModel << " is absent (../shared is not here)";
    }
    model_ = dir_.path() + "/model";
    std::filesystem::copy(kFixtureModel, model_, std::filesystem::copy_options::recursive);
    db_path_ = dir_.path() + "/db";
  }

  std::unique_ptr<Database> OpenDatabase(const DatabaseOptions& options = {}) {
    auto db = Database::Open(db_path_, options);
    EXPECT_THAT(db, IsOk());
    return db.ok() ? *std::move(db) : nullptr;
  }

  TempDir dir_;
  std::string model_;
  std::string db_path_;
};

}  // namespace ember::testing

#endif  // EMBER_TESTS_FIXTURE_MODEL_H_
