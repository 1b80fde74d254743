// GoogleTest matchers for absl::Status / absl::StatusOr (GoogleTest 1.12 has none).
//
//   EXPECT_THAT(collection->Upsert(docs), IsOk());
//   EXPECT_THAT(db->GetCollection("x"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("x")));
//   EXPECT_THAT(store->Get(column, key), IsOkAndHolds(Optional("value"s)));
//   ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path));
#ifndef EMBER_TESTS_STATUS_MATCHERS_H_
#define EMBER_TESTS_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, arg.value(), result_listener);
}

}  // namespace ember::testing

#define EMBER_TEST_CONCAT_INNER_(a, b) a##b
#define EMBER_TEST_CONCAT_(a, b) EMBER_TEST_CONCAT_INNER_(a, b)

// Asserts that `expr` (an absl::StatusOr) is OK and moves its value into the declaration `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(EMBER_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr)          \
  auto statusor = (expr);                                        \
  ASSERT_TRUE(statusor.ok()) << statusor.status();               \
  lhs = std::move(statusor).value()

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::ember::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::ember::testing::IsOk())

#endif  // EMBER_TESTS_STATUS_MATCHERS_H_
