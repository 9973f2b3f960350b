// Small status helpers: Abseil 20220623 has no ABSL_RETURN_IF_ERROR; and
// the one way a parser or a rule names what is wrong where.
//
//   EDGEPASS_RETURN_IF_ERROR(ValidateTokenPolicy(policy));
//   EDGEPASS_ASSIGN_OR_RETURN(Keyring keys, ParseKeyringJson(text));
//   return FieldError("policy.paths[0]", "must start with '/'");
#ifndef EDGEPASS_CORE_STATUS_MACROS_H_
#define EDGEPASS_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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

namespace edgepass::core {

// INVALID_ARGUMENT "<where>: <what>"; `where` is a field path, a flag or a
// file, `what` says what is wrong with it.
inline absl::Status FieldError(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_STATUS_MACROS_H_
