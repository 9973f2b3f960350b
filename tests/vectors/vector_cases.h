// Loads the SMD token test vectors (../shared/vectors/*.json, and the
// project's own in tests/vectors/own) at test time, so new cases are picked up
// without a code change. See the vectors' READMEs.
//
//   std::vector<VectorCase> cases = LoadVectorCases(VectorsDir());
//   for (const VectorCase& c : cases) { ... c.request_uri ... c.expect_valid
//   ... }
#ifndef EDGEPASS_TESTS_VECTORS_VECTOR_CASES_H_
#define EDGEPASS_TESTS_VECTORS_VECTOR_CASES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgepass::testing {

struct VectorCase {
  std::string id;
  std::string title;
  // Signing key and the validator's keys ({kid, secret}, in file order).
  std::string signing_kid;
  std::string signing_value;
  std::vector<std::pair<std::string, std::string>> validator_keys;
  // Generation.
  int64_t generation_time_ms = 0;
  std::string key_alias;          // "primary" | "secondary"
  std::string token_policy_json;  // verbatim SMD policy object
  std::string viewer_json;        // verbatim SMD viewer attributes
  std::optional<std::string> playback_url;
  std::string sdk_output;
  std::string token;  // as generated
  std::optional<std::string> intsig_input;
  // The request the validator saw.
  std::string request_uri;
  std::string viewer_ip;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> query;
  int64_t validation_time_ms = 0;
  bool tampered = false;
  // What edgepass must answer: edgepass_expected when present, else expected.
  bool expect_valid = false;
  std::string expect_uri;
  // Own vectors only: the ReasonName edgepass must give for a refusal (empty
  // when the case does not say), and why edgepass's issuer deliberately does
  // not reproduce the SDK's token for this input (unset when it must).
  std::string expect_reason;
  std::optional<std::string> issuer_differs;
};

// `c.request_uri` with its first segment (the presented token) replaced by
// `token`: the same request carrying another token.
std::string RequestUriWithToken(const VectorCase& c, const std::string& token);

// Directory holding the vectors: $EDGEPASS_VECTORS_DIR, else the compiled-in
// default (../shared/vectors next to the source tree).
std::string VectorsDir();

// Directory of the project's own vectors (tests/vectors/own in the source
// tree), generated from SMD's code by generate_own_vectors.js.
std::string OwnVectorsDir();

// Every case of every *.json file in `dir`. Aborts the test run with a clear
// message when the directory or a file cannot be read.
std::vector<VectorCase> LoadVectorCases(const std::string& dir);

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_VECTORS_VECTOR_CASES_H_
