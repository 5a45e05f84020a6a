// Status propagation macros. Abseil 20220623 (Debian 12) ships none, so Warden keeps this
// one small header. Use inside functions returning absl::Status or absl::StatusOr<T>.
#ifndef WARDEN_BASE_STATUS_MACROS_H_
#define WARDEN_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define WARDEN_STATUS_CONCAT_INNER_(a, b) a##b
#define WARDEN_STATUS_CONCAT_(a, b) WARDEN_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    const ::absl::Status warden_status_ = (expr); \
    if (!warden_status_.ok()) return warden_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, F());` declares/assigns `x` from an OK StatusOr, or returns
// its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  WARDEN_ASSIGN_OR_RETURN_IMPL_(WARDEN_STATUS_CONCAT_(warden_statusor_, __LINE__), lhs, expr)

#define WARDEN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // WARDEN_BASE_STATUS_MACROS_H_
