#include "client/sidecar/file_snapshot_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "files/atomic_file.h"
#include "files/unique_fd.h"
#include "nlohmann/json.hpp"
#include "text/json_string.h"

namespace edgepass::sidecar {
namespace {

constexpr absl::string_view kDeltaPrefix = "@delta ";
// Lines beyond this share of the snapshot (or this many bytes, for a small
// one) make the next save a rewrite.
constexpr size_t kMinDeltaBytesBeforeRewrite = 64 * 1024;

uint64_t Fnv1a64(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

absl::Status IoError(const std::string& path, absl::string_view what) {
  const int e = errno;
  const std::string message = absl::StrCat(path, ": ", what, ": ", std::strerror(e));
  if (e == ENOENT) return absl::NotFoundError(message);
  if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

// One line's changes, or false when the line does not check or parse.
bool ParseDeltaLine(absl::string_view line, uint64_t* from, uint64_t* version,
                    std::vector<client::RevocationChange>* changes) {
  if (!absl::StartsWith(line, kDeltaPrefix)) return false;
  line.remove_prefix(kDeltaPrefix.size());
  if (line.size() < 18 || line[16] != ' ') return false;
  uint64_t sum;
  if (!absl::SimpleHexAtoi(line.substr(0, 16), &sum)) return false;
  const absl::string_view json = line.substr(17);
  if (Fnv1a64(json) != sum) return false;
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto f = j.find("from");
  auto v = j.find("version");
  auto c = j.find("changes");
  if (f == j.end() || !f->is_number_unsigned() || v == j.end() || !v->is_number_unsigned() ||
      c == j.end() || !c->is_array()) {
    return false;
  }
  *from = f->get<uint64_t>();
  *version = v->get<uint64_t>();
  changes->clear();
  changes->reserve(c->size());
  for (const nlohmann::json& e : *c) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string()) return false;
    client::RevocationChange change{.session_id = e[0].get<std::string>()};
    if (e[1].is_boolean() && !e[1].get<bool>()) {
      change.remove = true;
    } else if (e[1].is_null()) {
      change.expires_at = absl::InfiniteFuture();
    } else if (e[1].is_number_integer()) {
      change.expires_at = absl::FromUnixSeconds(e[1].get<int64_t>());
    } else {
      return false;
    }
    changes->push_back(std::move(change));
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ReadFileUpTo(const std::string& path,
                                         size_t max_bytes) {
  return files::ReadFileToString(path, max_bytes);
}

std::string SnapshotDeltaLine(uint64_t from, uint64_t version,
                              absl::Span<const client::RevocationChange> changes) {
  std::string json = absl::StrCat("{\"from\":", from, ",\"version\":", version, ",\"changes\":[");
  for (size_t i = 0; i < changes.size(); ++i) {
    const client::RevocationChange& c = changes[i];
    absl::StrAppend(&json, i == 0 ? "[" : ",[", text::JsonString(c.session_id), ",");
    if (c.remove) {
      json += "false]";
    } else if (c.expires_at == absl::InfiniteFuture()) {
      json += "null]";
    } else {
      absl::StrAppend(&json, absl::ToUnixSeconds(c.expires_at), "]");
    }
  }
  json += "]}";
  return absl::StrCat(kDeltaPrefix, absl::Hex(Fnv1a64(json), absl::kZeroPad16), " ", json, "\n");
}

absl::StatusOr<std::optional<ValidatorState>> FileSnapshotStore::Load() const {
  absl::StatusOr<std::string> text = ReadFileUpTo(path_, kMaxSnapshotBytes);
  if (absl::IsNotFound(text.status())) return std::optional<ValidatorState>();
  if (!text.ok()) return text.status();
  // The snapshot ends where the first delta line starts (JSON text never
  // has a line starting with '@').
  const size_t deltas_at = [&] {
    const size_t at = text->find(absl::StrCat("\n", kDeltaPrefix));
    return at == std::string::npos ? text->size() : at + 1;
  }();
  const absl::string_view all(*text);
  absl::StatusOr<ValidatorState> state = ParseSnapshotJson(all.substr(0, deltas_at));
  if (!state.ok()) {
    return absl::Status(state.status().code(),
                        absl::StrCat(path_, ": ", state.status().message()));
  }
  size_t good = deltas_at;
  std::vector<client::RevocationChange> changes;
  while (good < all.size()) {
    const size_t end = all.find('\n', good);
    if (end == absl::string_view::npos) break;  // torn: no newline yet
    uint64_t from, version;
    if (!ParseDeltaLine(all.substr(good, end - good), &from, &version, &changes) ||
        from != state->version) {
      break;
    }
    if (!changes.empty()) state->revoked = state->revoked->Apply(changes);
    state->version = version;
    good = end + 1;
  }
  absl::MutexLock lock(&mu_);
  known_ = true;
  version_ = state->version;
  snapshot_bytes_ = deltas_at;
  length_ = good;
  dropped_ = all.size() - good;
  return std::optional<ValidatorState>(*std::move(state));
}

absl::Status FileSnapshotStore::Save(const ValidatorState& state) {
  absl::MutexLock lock(&mu_);
  if (!known_ || !state.delta_from.has_value() || *state.delta_from != version_ ||
      length_ - snapshot_bytes_ > std::max(kMinDeltaBytesBeforeRewrite, snapshot_bytes_ / 4)) {
    return Rewrite(state);
  }
  const std::string line = SnapshotDeltaLine(*state.delta_from, state.version, state.changes);
  files::UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    known_ = false;
    return IoError(path_, "open");
  }
  // Over a torn tail a crash may have left, if any.
  if (::ftruncate(fd.get(), static_cast<off_t>(length_)) != 0) {
    known_ = false;
    return IoError(path_, "ftruncate");
  }
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::pwrite(fd.get(), line.data() + written, line.size() - written,
                               static_cast<off_t>(length_ + written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      known_ = false;  // the next save rewrites the file
      return IoError(path_, "write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fdatasync(fd.get()) != 0) {
    known_ = false;
    return IoError(path_, "fdatasync");
  }
  length_ += line.size();
  version_ = state.version;
  ++appends_;
  return absl::OkStatus();
}

absl::Status FileSnapshotStore::Rewrite(const ValidatorState& state) {
  const std::string text = SnapshotToJson(state);
  absl::Status written = files::WriteFileAtomically(path_, text, {.mode = 0600});
  known_ = written.ok();
  if (!written.ok()) return written;
  version_ = state.version;
  snapshot_bytes_ = text.size();
  length_ = text.size();
  ++rewrites_;
  return absl::OkStatus();
}

size_t FileSnapshotStore::dropped_delta_bytes() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

size_t FileSnapshotStore::rewrites() const {
  absl::MutexLock lock(&mu_);
  return rewrites_;
}

size_t FileSnapshotStore::appends() const {
  absl::MutexLock lock(&mu_);
  return appends_;
}

}  // namespace edgepass::sidecar
