#include "server/adapters/file_session_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "files/atomic_file.h"
#include "server/json_util.h"

namespace edgepass::server {
namespace {

absl::Status Corrupt(const std::string& path, absl::string_view message) {
  return absl::FailedPreconditionError(absl::StrCat(path, ": ", message));
}

// The pre-RevocationEntry formats core::ParseRevocationJson reads.
absl::StatusOr<SessionList> ParseOldFormat(const nlohmann::json& sessions, absl::Time added_at,
                                           const std::string& path) {
  SessionList out;
  out.version = 1;
  for (size_t i = 0; i < sessions.size(); ++i) {
    const std::string where = absl::StrCat("sessions[", i, "]");
    const nlohmann::json& e = sessions[i];
    core::RevocationEntry entry;
    entry.type = core::RevocationType::kManual;
    entry.added_at = added_at;
    if (e.is_string()) {
      entry.session_id = e.get<std::string>();
    } else if (e.is_object() && e.contains("session_id") && e["session_id"].is_string()) {
      entry.session_id = e["session_id"].get<std::string>();
      if (e.contains("expires_at")) {
        if (!e["expires_at"].is_number_integer()) {
          return Corrupt(path, absl::StrCat(where, ".expires_at: must be integer epoch seconds"));
        }
        entry.expires_at = absl::FromUnixSeconds(e["expires_at"].get<int64_t>());
      }
    } else {
      return Corrupt(path, absl::StrCat(where, ": must be a session id or {\"session_id\":...}"));
    }
    // Already expired when the file was last written: nothing left to deny.
    if (entry.expires_at <= entry.added_at) continue;
    EDGEPASS_RETURN_IF_ERROR(
        [&]() -> absl::Status {
          absl::Status s = core::ValidateRevocationEntry(entry, where);
          return s.ok() ? s : Corrupt(path, s.message());
        }());
    out.entries.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

absl::StatusOr<SessionList> FileSessionStore::Read() const {
  absl::StatusOr<std::string> text =
      files::ReadFileToString(path_, kMaxSessionFileBytes);
  if (absl::IsNotFound(text.status())) return SessionList{};
  if (!text.ok()) return text.status();
  absl::StatusOr<nlohmann::json> doc = ParseJson(*text, path_);
  if (!doc.ok()) return absl::FailedPreconditionError(doc.status().message());

  if (doc->is_array() || (doc->is_object() && doc->contains("sessions"))) {
    const nlohmann::json& sessions = doc->is_array() ? *doc : (*doc)["sessions"];
    if (!sessions.is_array()) return Corrupt(path_, "sessions: must be a list");
    struct stat st;
    absl::Time mtime = absl::UnixEpoch();
    if (::stat(path_.c_str(), &st) == 0) mtime = absl::TimeFromTimespec(st.st_mtim);
    return ParseOldFormat(sessions, mtime, path_);
  }
  if (!doc->is_object() || !doc->contains("entries") || !(*doc)["entries"].is_array()) {
    return Corrupt(path_, "expected {\"version\":N,\"entries\":[...]}");
  }
  SessionList out;
  if (doc->contains("version")) {
    const nlohmann::json& v = (*doc)["version"];
    if (!v.is_number_unsigned()) return Corrupt(path_, "version: must be a non-negative integer");
    out.version = v.get<uint64_t>();
  }
  const nlohmann::json& entries = (*doc)["entries"];
  out.entries.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::StatusOr<core::RevocationEntry> entry =
        core::ParseRevocationEntryJson(DumpJson(entries[i]));
    if (!entry.ok()) {
      return Corrupt(path_, absl::StrCat("entries[", i, "]: ", entry.status().message()));
    }
    out.entries.push_back(*std::move(entry));
  }
  return out;
}

absl::Status FileSessionStore::Write(const SessionList& list) const {
  std::string text = absl::StrCat("{\"version\":", list.version, ",\"entries\":[");
  for (size_t i = 0; i < list.entries.size(); ++i) {
    absl::StrAppend(&text, i == 0 ? "\n  " : ",\n  ", core::RevocationEntryToJson(list.entries[i]));
  }
  absl::StrAppend(&text, "\n]}\n");
  return files::WriteFileAtomically(path_, text,
                                    {.mode = 0600, .replace_existing = true});
}

absl::StatusOr<uint64_t> FileSessionStore::Put(const core::RevocationEntry& entry) {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_ASSIGN_OR_RETURN(SessionList list, Read());
    auto it = std::find_if(list.entries.begin(), list.entries.end(),
                           [&](const core::RevocationEntry& e) { return e.session_id == entry.session_id; });
    if (it != list.entries.end()) {
      *it = entry;
    } else {
      list.entries.push_back(entry);
    }
    version = ++list.version;
    EDGEPASS_RETURN_IF_ERROR(Write(list));
  }
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kSessions);
  return version;
}

absl::StatusOr<uint64_t> FileSessionStore::Remove(absl::string_view session_id) {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_ASSIGN_OR_RETURN(SessionList list, Read());
    auto it = std::find_if(list.entries.begin(), list.entries.end(),
                           [&](const core::RevocationEntry& e) { return e.session_id == session_id; });
    if (it == list.entries.end()) {
      return absl::NotFoundError(
          absl::StrCat("session ", session_id.substr(0, 128), " is not revoked"));
    }
    list.entries.erase(it);
    version = ++list.version;
    EDGEPASS_RETURN_IF_ERROR(Write(list));
  }
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kSessions);
  return version;
}

absl::StatusOr<SessionList> FileSessionStore::List() {
  absl::MutexLock lock(&mu_);
  return Read();
}

absl::StatusOr<size_t> FileSessionStore::Prune(absl::Time cutoff) {
  size_t dropped = 0;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_ASSIGN_OR_RETURN(SessionList list, Read());
    const size_t before = list.entries.size();
    std::erase_if(list.entries, [&](const core::RevocationEntry& e) { return e.expires_at < cutoff; });
    dropped = before - list.entries.size();
    if (dropped == 0) return size_t{0};
    ++list.version;
    EDGEPASS_RETURN_IF_ERROR(Write(list));
  }
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kSessions);
  return dropped;
}

}  // namespace edgepass::server
