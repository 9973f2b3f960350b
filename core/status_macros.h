// Small status helpers: Abseil 20220623 has no ABSL_RETURN_IF_ERROR.
//
//   EDGEPASS_RETURN_IF_ERROR(ValidateTokenPolicy(policy));
//   EDGEPASS_ASSIGN_OR_RETURN(Keyring keys, ParseKeyringJson(text));
#ifndef EDGEPASS_CORE_STATUS_MACROS_H_
#define EDGEPASS_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define EDGEPASS_RETURN_IF_ERROR(expr)             \
  do {                                             \
    ::absl::Status edgepass_status_ = (expr);      \
    if (!edgepass_status_.ok()) return edgepass_status_; \
  } while (0)

#define EDGEPASS_CONCAT_INNER_(a, b) a##b
#define EDGEPASS_CONCAT_(a, b) EDGEPASS_CONCAT_INNER_(a, b)
#define EDGEPASS_ASSIGN_OR_RETURN(lhs, expr) \
  EDGEPASS_ASSIGN_OR_RETURN_IMPL_(EDGEPASS_CONCAT_(edgepass_or_, __LINE__), lhs, expr)
#define EDGEPASS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(*tmp)

#endif  // EDGEPASS_CORE_STATUS_MACROS_H_
