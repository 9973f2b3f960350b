// Force-included (-include) in the clang fuzz/sanitizer build only, by
// scripts/fuzz.sh. http/http_server.cc annotates a lambda with
// ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu), naming one of its captures, which
// gcc accepts and clang refuses ("use of undeclared identifier"). The
// annotations have no effect without -Wthread-safety, so this build drops
// them; remove this file once no annotation needs it.
#ifndef EDGEPASS_TESTS_FUZZ_CLANG_COMPAT_H_
#define EDGEPASS_TESTS_FUZZ_CLANG_COMPAT_H_
#ifdef __cplusplus
#include "absl/base/thread_annotations.h"
#undef ABSL_EXCLUSIVE_LOCKS_REQUIRED
#define ABSL_EXCLUSIVE_LOCKS_REQUIRED(...)
#endif
#endif  // EDGEPASS_TESTS_FUZZ_CLANG_COMPAT_H_
