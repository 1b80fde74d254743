// Error propagation for code that returns absl::Status / absl::StatusOr.
//
// Abseil 20220623 (Debian bookworm) has no RETURN_IF_ERROR / ASSIGN_OR_RETURN, so Ember defines its
// own, once, here. Every fallible Ember call returns absl::Status or absl::StatusOr<T>; no
// exception crosses the public API.
#ifndef EMBER_STATUS_H_
#define EMBER_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define EMBER_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status ember_status_ = (expr);         \
    if (!ember_status_.ok()) return ember_status_; \
  } while (0)

#define EMBER_STATUS_CONCAT_INNER_(a, b) a##b
#define EMBER_STATUS_CONCAT_(a, b) EMBER_STATUS_CONCAT_INNER_(a, b)

// `EMBER_ASSIGN_OR_RETURN(auto x, Make());` evaluates `Make()` (an absl::StatusOr<T>); on error
// returns its status from the enclosing function, otherwise moves the value into the declaration on
// the left.
#define EMBER_ASSIGN_OR_RETURN(lhs, expr) \
  EMBER_ASSIGN_OR_RETURN_IMPL_(EMBER_STATUS_CONCAT_(ember_statusor_, __LINE__), lhs, expr)

#define EMBER_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)  \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // EMBER_STATUS_H_
