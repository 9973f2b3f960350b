#include "tests/vectors/vector_cases.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace edgepass::testing {
namespace {

using Json = nlohmann::json;

[[noreturn]] void Fail(const std::string& message) {
  std::cerr << "vector_cases: " << message << "\n";
  std::abort();
}

VectorCase ParseCase(const Json& c) {
  VectorCase v;
  v.id = c.at("id").get<std::string>();
  v.title = c.value("title", "");
  v.signing_kid = c.at("signing_key").at("kid").get<std::string>();
  v.signing_value = c.at("signing_key").at("value").get<std::string>();
  for (const auto& [kid, secret] : c.at("validator_keys").items()) {
    v.validator_keys.emplace_back(kid, secret.get<std::string>());
  }
  const Json& g = c.at("generation");
  v.generation_time_ms = g.at("time_ms").get<int64_t>();
  v.key_alias = g.value("key_alias", "primary");
  v.token_policy_json = g.at("token_policy").dump();
  v.viewer_json = g.at("viewer_attributes").dump();
  if (g.contains("playback_url") && g["playback_url"].is_string()) {
    v.playback_url = g["playback_url"].get<std::string>();
  }
  v.sdk_output = g.at("sdk_output").get<std::string>();
  v.token = g.at("token").get<std::string>();
  if (g.contains("intsig_input") && g["intsig_input"].is_string()) {
    v.intsig_input = g["intsig_input"].get<std::string>();
  }
  v.tampered = c.contains("tampering") && !c["tampering"].is_null();
  const Json& event = c.at("request_event");
  v.request_uri = event.at("request").at("uri").get<std::string>();
  v.viewer_ip = event.at("viewer").at("ip").get<std::string>();
  for (const auto& [name, value] : event.at("request").at("headers").items()) {
    v.headers.emplace_back(name, value.at("value").get<std::string>());
  }
  for (const auto& [name, value] :
       event.at("request").at("querystring").items()) {
    v.query.emplace_back(name, value.at("value").get<std::string>());
  }
  v.validation_time_ms = c.at("validation_time_ms").get<int64_t>();
  const Json& expected = c.contains("edgepass_expected")
                             ? c["edgepass_expected"]
                             : c.at("expected");
  v.expect_valid = expected.at("valid").get<bool>();
  if (v.expect_valid) v.expect_uri = expected.at("uri").get<std::string>();
  v.expect_reason = c.value("edgepass_reason", "");
  if (c.contains("edgepass_issuer_differs")) {
    v.issuer_differs = c["edgepass_issuer_differs"].get<std::string>();
  }
  return v;
}

}  // namespace

std::string VectorsDir() {
  if (const char* env = std::getenv("EDGEPASS_VECTORS_DIR");
      env != nullptr && *env)
    return env;
  return EDGEPASS_VECTORS_DIR;
}

std::string OwnVectorsDir() { return EDGEPASS_OWN_VECTORS_DIR; }

std::string RequestUriWithToken(const VectorCase& c, const std::string& token) {
  const size_t end = c.request_uri.find('/', 1);
  return "/" + token +
         (end == std::string::npos ? "" : c.request_uri.substr(end));
}

std::vector<VectorCase> LoadVectorCases(const std::string& dir) {
  std::vector<VectorCase> cases;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    Fail("no vectors directory at " + dir);
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    Json doc = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.contains("cases"))
      Fail("not a vectors file: " + entry.path().string());
    try {
      for (const Json& c : doc["cases"]) cases.push_back(ParseCase(c));
    } catch (const Json::exception& e) {
      Fail(entry.path().string() + ": " + e.what());
    }
  }
  if (cases.empty()) Fail("no cases found in " + dir);
  return cases;
}

}  // namespace edgepass::testing
