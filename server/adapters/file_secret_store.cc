#include "server/adapters/file_secret_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/cloudfront_signer.h"
#include "core/status_macros.h"
#include "files/atomic_file.h"
#include "nlohmann/json.hpp"
#include "text/json_doc.h"

namespace edgepass::server {
namespace {

std::string SiblingPath(const std::string& path, absl::string_view name) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(name) : absl::StrCat(path.substr(0, slash + 1), name);
}

absl::StatusOr<std::vector<CloudFrontKeyEntry>> ParseCloudFrontKeys(const std::string& text,
                                                                    const std::string& path) {
  auto bad = [&](absl::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", what));
  };
  // No parser detail in the error: it may quote bytes of a private key.
  absl::StatusOr<nlohmann::json> parsed = text::ParseJson(text, path, {.object = true});
  if (!parsed.ok()) return absl::FailedPreconditionError(parsed.status().message());
  const nlohmann::json& doc = *parsed;
  for (const auto& [key, unused] : doc.items()) {
    if (key != "cloudfront_keys") return bad(absl::StrCat("unknown field \"", key, "\""));
  }
  std::vector<CloudFrontKeyEntry> out;
  auto list = doc.find("cloudfront_keys");
  if (list == doc.end()) return out;
  if (!list->is_array()) return bad("cloudfront_keys: must be an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& e = (*list)[i];
    const std::string at = absl::StrCat("cloudfront_keys[", i, "]");
    if (!e.is_object() || e.size() != 2 || !e.contains("key_pair_id") || !e.contains("private_key_pem") ||
        !e["key_pair_id"].is_string() || !e["private_key_pem"].is_string()) {
      return bad(absl::StrCat(at, ": must be {\"key_pair_id\": string, \"private_key_pem\": string}"));
    }
    CloudFrontKeyEntry entry{e["key_pair_id"].get<std::string>(), e["private_key_pem"].get<std::string>()};
    if (!core::IsValidCloudFrontKeyPairId(entry.key_pair_id)) {
      return bad(absl::StrCat(at, ".key_pair_id: must be 1-", core::kMaxCloudFrontKeyPairIdLength,
                              " ASCII letters and digits"));
    }
    for (const CloudFrontKeyEntry& seen : out) {
      if (seen.key_pair_id == entry.key_pair_id) return bad(absl::StrCat(at, ".key_pair_id: repeated"));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

FileSecretStore::FileSecretStore(std::string path, std::string cloudfront_keys_path)
    : file_(path),
      cloudfront_keys_path_(cloudfront_keys_path.empty() ? SiblingPath(path, "cloudfront_keys.json")
                                                         : std::move(cloudfront_keys_path)) {}

absl::StatusOr<std::vector<CloudFrontKeyEntry>> FileSecretStore::ReadCloudFrontKeys() {
  // Private keys: refuse a file that others can read, as for the keyring.
  struct stat st;
  if (::stat(cloudfront_keys_path_.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: mode %04o lets other users read the CloudFront private keys; chmod 600 it",
        cloudfront_keys_path_, st.st_mode & 07777));
  }
  absl::StatusOr<std::string> text =
      files::ReadFileToString(cloudfront_keys_path_);
  if (absl::IsNotFound(text.status())) return std::vector<CloudFrontKeyEntry>();
  EDGEPASS_RETURN_IF_ERROR(text.status());
  return ParseCloudFrontKeys(*text, cloudfront_keys_path_);
}

absl::Status FileSecretStore::WriteCloudFrontKey(const CloudFrontKeyEntry& entry) {
  if (!core::IsValidCloudFrontKeyPairId(entry.key_pair_id)) {
    return absl::InvalidArgumentError(absl::StrCat("key_pair_id: must be 1-", core::kMaxCloudFrontKeyPairIdLength,
                                                   " ASCII letters and digits"));
  }
  if (entry.private_key_pem.empty()) return absl::InvalidArgumentError("private_key_pem: required");
  absl::MutexLock lock(&write_mu_);
  EDGEPASS_ASSIGN_OR_RETURN(std::vector<CloudFrontKeyEntry> keys, ReadCloudFrontKeys());
  bool replaced = false;
  for (CloudFrontKeyEntry& k : keys) {
    if (k.key_pair_id == entry.key_pair_id) {
      k.private_key_pem = entry.private_key_pem;
      replaced = true;
    }
  }
  if (!replaced) keys.push_back(entry);
  std::sort(keys.begin(), keys.end(),
            [](const CloudFrontKeyEntry& a, const CloudFrontKeyEntry& b) { return a.key_pair_id < b.key_pair_id; });
  nlohmann::json list = nlohmann::json::array();
  for (const CloudFrontKeyEntry& k : keys) {
    list.push_back({{"key_pair_id", k.key_pair_id}, {"private_key_pem", k.private_key_pem}});
  }
  nlohmann::json doc = {{"cloudfront_keys", std::move(list)}};
  return files::WriteFileAtomically(cloudfront_keys_path_, text::DumpJson(doc, 2) + "\n",
                                    {.mode = 0600, .replace_existing = true});
}

absl::StatusOr<core::Keyring> FileSecretStore::ReadKeyring() {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<core::Keyring> keyring = file_.Load();
  if (!keyring.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return keyring;
}

absl::Status FileSecretStore::WriteKeyring(const core::Keyring& keyring) {
  if (keyring.Primary() == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path(), ": keys: no primary key"));
  }
  absl::MutexLock lock(&write_mu_);
  return files::WriteFileAtomically(path(), core::KeyringToJson(keyring),
                                    {.mode = 0600, .replace_existing = true});
}

absl::StatusOr<core::Keyring> FileSecretStore::LoadOrCreate(absl::Time now,
                                                            core::RandomSource& random) {
  reads_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<core::Keyring> keyring = file_.LoadOrCreate(now, random);
  if (!keyring.ok()) read_errors_.fetch_add(1, std::memory_order_relaxed);
  return keyring;
}

}  // namespace edgepass::server
