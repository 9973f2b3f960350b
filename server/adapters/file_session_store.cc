#include "server/adapters/file_session_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <limits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"
#include "files/atomic_file.h"
#include "text/json_doc.h"

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


constexpr absl::string_view kBaseHead = "{\"version\":";
constexpr absl::string_view kBaseEntries = ",\"entries\":[";

absl::Status Errno(absl::string_view what, const std::string& path) {
  const int err = errno;
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(err)));
}

uint64_t Fnv1a(absl::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Hex16(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 15];
  return out;
}

// One log line (without its newline): checksum, space, the record.
std::string LogLine(absl::string_view json) { return absl::StrCat(Hex16(Fnv1a(json)), " ", json, "\n"); }


// Reads a file a line at a time through a 1 MiB buffer; owns the fd.
class LineReader {
 public:
  LineReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~LineReader() { ::close(fd_); }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its newline (*complete false when the file ends
  // without one); false at the end of the file.
  absl::StatusOr<bool> Next(std::string* line, bool* complete) {
    line->clear();
    line_offset_ = offset_;
    while (true) {
      if (pos_ == buffer_.size()) {
        if (eof_) {
          *complete = false;
          return !line->empty();
        }
        buffer_.resize(size_t{1} << 20);
        ssize_t n;
        do {
          n = ::read(fd_, buffer_.data(), buffer_.size());
        } while (n < 0 && errno == EINTR);
        if (n < 0) return Errno("read", path_);
        buffer_.resize(static_cast<size_t>(n));
        pos_ = 0;
        if (n == 0) eof_ = true;
        continue;
      }
      const size_t newline = buffer_.find('\n', pos_);
      const size_t end = newline == std::string::npos ? buffer_.size() : newline;
      line->append(buffer_, pos_, end - pos_);
      offset_ += end - pos_;
      pos_ = end;
      if (newline != std::string::npos) {
        ++pos_;
        ++offset_;
        *complete = true;
        return true;
      }
    }
  }
  // Where the line Next() returned last starts.
  size_t line_offset() const { return line_offset_; }
  // True when nothing follows the line Next() returned last. Reads on:
  // ask it only before giving up on the file.
  bool at_end() {
    if (pos_ < buffer_.size()) return false;
    std::string rest;
    bool complete = false;
    const size_t saved = line_offset_;
    absl::StatusOr<bool> more = Next(&rest, &complete);
    line_offset_ = saved;
    return !(more.ok() && *more);
  }

 private:
  const int fd_;
  const std::string path_;
  std::string buffer_;
  size_t pos_ = 0;
  size_t offset_ = 0;
  size_t line_offset_ = 0;
  bool eof_ = false;
};

}  // namespace

FileSessionStore::FileSessionStore(std::string path, ChangeFeed* feed, FileSessionStoreOptions options)
    : path_(std::move(path)), feed_(feed), options_(options) {}

FileSessionStore::~FileSessionStore() {
  absl::MutexLock lock(&mu_);
  if (log_fd_ >= 0) ::close(log_fd_);
}

void FileSessionStore::Announce() {
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kSessions);
}

absl::Status FileSessionStore::ReplayBase(Visit visit, uint64_t* version, bool* old_format) const {
  *old_format = false;
  *version = 0;
  // The format this store writes, a line per entry, read as a stream so a
  // million entries never sit in memory at once.
  {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      *old_format = true;  // nothing to keep; the first change writes a base
      return absl::OkStatus();
    }
    if (fd < 0) return Errno("open", path_);
    LineReader reader(fd, path_);
    std::string line;
    bool complete = false;
    EDGEPASS_ASSIGN_OR_RETURN(bool got, reader.Next(&line, &complete));
    absl::string_view head = line;
    uint64_t v = 0;
    if (got && absl::ConsumePrefix(&head, kBaseHead) && absl::ConsumeSuffix(&head, kBaseEntries) &&
        absl::SimpleAtoi(head, &v)) {
      bool closed = false;
      size_t index = 0;
      while (true) {
        EDGEPASS_ASSIGN_OR_RETURN(got, reader.Next(&line, &complete));
        if (!got) break;
        absl::string_view text = absl::StripAsciiWhitespace(line);
        if (closed) {
          if (!text.empty()) return Corrupt(path_, "text after the closing ]}");
          continue;
        }
        if (text.empty()) continue;
        if (text == "]}") {
          closed = true;
          continue;
        }
        absl::ConsumeSuffix(&text, ",");
        absl::StatusOr<core::RevocationEntry> entry = core::ParseRevocationEntryJson(text);
        if (!entry.ok()) return Corrupt(path_, absl::StrCat("entries[", index, "]: ", entry.status().message()));
        visit(v, &*entry, {});
        ++index;
      }
      if (!closed) return Corrupt(path_, "truncated: no closing ]}");
      *version = v;
      return absl::OkStatus();
    }
  }
  // Anything else (older formats, hand-edited files): the whole document.
  absl::StatusOr<std::string> text = files::ReadFileToString(path_, kMaxSessionFileBytes);
  if (!text.ok()) return text.status();
  absl::StatusOr<nlohmann::json> doc = text::ParseJson(*text, path_, {.detail = true});
  if (!doc.ok()) return absl::FailedPreconditionError(doc.status().message());
  SessionList list;
  if (doc->is_array() || (doc->is_object() && doc->contains("sessions"))) {
    const nlohmann::json& sessions = doc->is_array() ? *doc : (*doc)["sessions"];
    if (!sessions.is_array()) return Corrupt(path_, "sessions: must be a list");
    struct stat st;
    absl::Time mtime = absl::UnixEpoch();
    if (::stat(path_.c_str(), &st) == 0) mtime = absl::TimeFromTimespec(st.st_mtim);
    EDGEPASS_ASSIGN_OR_RETURN(list, ParseOldFormat(sessions, mtime, path_));
  } else {
    if (!doc->is_object() || !doc->contains("entries") || !(*doc)["entries"].is_array()) {
      return Corrupt(path_, "expected {\"version\":N,\"entries\":[...]}");
    }
    if (doc->contains("version")) {
      const nlohmann::json& v = (*doc)["version"];
      if (!v.is_number_unsigned()) return Corrupt(path_, "version: must be a non-negative integer");
      list.version = v.get<uint64_t>();
    }
    const nlohmann::json& entries = (*doc)["entries"];
    for (size_t i = 0; i < entries.size(); ++i) {
      absl::StatusOr<core::RevocationEntry> entry =
          core::ParseRevocationEntryJson(text::DumpJson(entries[i]));
      if (!entry.ok()) {
        return Corrupt(path_, absl::StrCat("entries[", i, "]: ", entry.status().message()));
      }
      list.entries.push_back(*std::move(entry));
    }
  }
  *old_format = true;  // readable, but not one entry per line: rewritten at the next change
  *version = list.version;
  for (const auto& e : list.entries) visit(list.version, &e, {});
  return absl::OkStatus();
}

absl::Status FileSessionStore::Replay(Visit visit, uint64_t* version, bool* old_format, bool repair) const {
  EDGEPASS_RETURN_IF_ERROR(ReplayBase(visit, version, old_format));
  return ReplayLog(visit, version, repair);
}

absl::Status FileSessionStore::ReplayLog(Visit visit, uint64_t* version, bool repair) const {
  const std::string log = log_path();
  const int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return absl::OkStatus();
  if (fd < 0) return Errno("open", log);
  LineReader reader(fd, log);
  std::string line;
  bool complete = false;
  while (true) {
    EDGEPASS_ASSIGN_OR_RETURN(bool got, reader.Next(&line, &complete));
    if (!got) return absl::OkStatus();
    const size_t offset = reader.line_offset();
    auto bad = [&](absl::string_view why) -> absl::Status {
      if (reader.at_end()) {  // torn by a crash while appending: the change never counted
        if (repair && ::truncate(log.c_str(), static_cast<off_t>(offset)) != 0) return Errno("truncate", log);
        return absl::OkStatus();
      }
      return Corrupt(log, absl::StrCat("record at byte ", offset, ": ", why));
    };
    if (!complete) return bad("no newline");
    const absl::string_view text = line;
    uint64_t sum = 0;
    if (text.size() < 18 || text[16] != ' ' || !absl::SimpleHexAtoi(text.substr(0, 16), &sum) ||
        sum != Fnv1a(text.substr(17))) {
      return bad("bad checksum");
    }
    absl::StatusOr<nlohmann::json> record = text::ParseJson(text.substr(17), log);
    if (!record.ok() || !record->is_object() || !record->contains("v") || !(*record)["v"].is_number_unsigned()) {
      return bad("expected {\"v\":N,...}");
    }
    const uint64_t v = (*record)["v"].get<uint64_t>();
    if (v <= *version) continue;  // already in the base a compaction wrote
    if (record->contains("put") && (*record)["put"].is_array()) {
      const nlohmann::json& puts = (*record)["put"];
      for (size_t i = 0; i < puts.size(); ++i) {
        absl::StatusOr<core::RevocationEntry> entry = core::ParseRevocationEntryJson(text::DumpJson(puts[i]));
        if (!entry.ok()) return bad(absl::StrCat("put[", i, "]: ", entry.status().message()));
        visit(v, &*entry, {});
      }
    } else if (record->contains("del") && (*record)["del"].is_array()) {
      for (const nlohmann::json& id : (*record)["del"]) {
        if (!id.is_string()) return bad("del: must be session ids");
        visit(v, nullptr, id.get<std::string>());
      }
    } else {
      return bad("expected \"put\" or \"del\"");
    }
    *version = v;
  }
}

FileSessionStore::Indexed::Indexed(absl::Time expires_at, core::RevocationType type) {
  int64_t seconds = kNever;
  if (expires_at != absl::InfiniteFuture()) {
    seconds = std::clamp<int64_t>(absl::ToUnixSeconds(expires_at), -kNever, kNever - 1);
  }
  bits_ = seconds * 2 + (type == core::RevocationType::kAuto ? 1 : 0);
}

absl::Time FileSessionStore::Indexed::expires_at() const {
  return expiry_seconds() == kNever ? absl::InfiniteFuture() : absl::FromUnixSeconds(expiry_seconds());
}

void FileSessionStore::IndexPut(const core::RevocationEntry& entry) {
  const Indexed indexed(entry.expires_at, entry.type);
  auto [it, added] = index_.try_emplace(entry.session_id, indexed);
  if (!added) it->second = indexed;
}

absl::Status FileSessionStore::Open(const Visit* also) {
  if (open_) return absl::OkStatus();
  index_.clear();
  auto visit = [&](uint64_t version, const core::RevocationEntry* put, absl::string_view removed) {
    if (put != nullptr) {
      IndexPut(*put);
    } else {
      index_.erase(removed);
    }
    if (also != nullptr) (*also)(version, put, removed);
  };
  uint64_t base_version = 0;
  bool old_format = false;
  EDGEPASS_RETURN_IF_ERROR(ReplayBase(visit, &base_version, &old_format));
  uint64_t version = base_version;
  EDGEPASS_RETURN_IF_ERROR(ReplayLog(visit, &version, /*repair=*/true));
  const std::string log = log_path();
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open", log);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Errno("stat", log);
  }
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = fd;
  log_bytes_ = static_cast<size_t>(st.st_size);
  base_bytes_ = ::stat(path_.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  base_current_ = !old_format;
  version_ = version;
  base_version_ = base_version;
  recent_.clear();
  recent_floor_ = version;
  open_ = true;
  return absl::OkStatus();
}

void FileSessionStore::Remember(SessionChange change) {
  recent_.push_back(std::move(change));
  while (recent_.size() > options_.recent_changes) {
    recent_floor_ = std::max(recent_floor_, recent_.front().version);
    recent_.pop_front();
  }
}

absl::Status FileSessionStore::Append(const std::vector<const core::RevocationEntry*>& puts,
                                      const std::vector<std::string>& removes) {
  const uint64_t next = version_ + 1;
  std::string json = absl::StrCat("{\"v\":", next);
  if (!puts.empty()) {
    absl::StrAppend(&json, ",\"put\":[");
    for (size_t i = 0; i < puts.size(); ++i) {
      absl::StrAppend(&json, i == 0 ? "" : ",", core::RevocationEntryToJson(*puts[i]));
    }
    absl::StrAppend(&json, "]}");
  } else {
    nlohmann::json ids = removes;
    absl::StrAppend(&json, ",\"del\":", ids.dump(), "}");
  }
  const std::string line = LogLine(json);
  const std::string log = log_path();
  absl::Status written = files::WriteAll(log_fd_, line, log);
  if (written.ok() && ::fdatasync(log_fd_) != 0) written = Errno("fsync", log);
  if (!written.ok()) {
    // Leave no partial record behind; a later open would cut it anyway.
    if (::ftruncate(log_fd_, static_cast<off_t>(log_bytes_)) != 0) open_ = false;
    return written;
  }
  log_bytes_ += line.size();
  version_ = next;
  for (const core::RevocationEntry* e : puts) {
    IndexPut(*e);
    // As the files hold it (whole seconds), so replicas rank it the same
    // whether they read it here or from the files.
    core::RevocationEntry stored = *e;
    stored.added_at = absl::FromUnixSeconds(absl::ToUnixSeconds(e->added_at));
    if (e->expires_at != absl::InfiniteFuture()) {
      stored.expires_at = absl::FromUnixSeconds(absl::ToUnixSeconds(e->expires_at));
    }
    Remember({.version = next, .session_id = e->session_id, .entry = std::move(stored)});
  }
  for (const std::string& id : removes) {
    index_.erase(id);
    Remember({.version = next, .session_id = id});
  }
  if (!base_current_ || (log_bytes_ > options_.compact_after_bytes && log_bytes_ > base_bytes_ / 4)) {
    // Stored already; a failed compaction leaves base and log as they were.
    absl::Status compacted = Compact();
    if (!compacted.ok()) std::cerr << "edgepass-server: compacting " << path_ << " failed: " << compacted << std::endl;
  }
  return absl::OkStatus();
}

absl::Status FileSessionStore::Compact() {
  // Which log record holds each session's newest put (the log is at most a
  // fraction of the base, and only ids are kept); those override the base.
  absl::flat_hash_map<std::string, uint32_t> logged;
  uint32_t put_number = 0;
  uint64_t logged_version = base_version_;
  EDGEPASS_RETURN_IF_ERROR(ReplayLog(
      [&](uint64_t, const core::RevocationEntry* put, absl::string_view removed) {
        if (put != nullptr) {
          logged[put->session_id] = put_number++;
        } else {
          logged.erase(removed);
        }
      },
      &logged_version, /*repair=*/false));
  EDGEPASS_ASSIGN_OR_RETURN(files::AtomicFileWriter out, files::AtomicFileWriter::Create(path_));
  std::string buffer = absl::StrCat(kBaseHead, version_, kBaseEntries);
  absl::Status status;
  size_t bytes = 0;
  bool first = true;
  auto add = [&](absl::string_view json) {
    absl::StrAppend(&buffer, first ? "\n" : ",\n", json);
    first = false;
    if (status.ok() && buffer.size() >= (size_t{1} << 20)) {
      status = out.Append(buffer);
      bytes += buffer.size();
      buffer.clear();
    }
  };
  uint64_t base_version = 0;
  bool old_format = false;
  absl::Status base = ReplayBase(
      [&](uint64_t, const core::RevocationEntry* put, absl::string_view) {
        if (put == nullptr || logged.contains(put->session_id) || !index_.contains(put->session_id)) return;
        add(core::RevocationEntryToJson(*put));
      },
      &base_version, &old_format);
  if (status.ok()) status = base;
  put_number = 0;
  logged_version = base_version_;
  absl::Status log = ReplayLog(
      [&](uint64_t, const core::RevocationEntry* put, absl::string_view) {
        if (put == nullptr) return;
        auto it = logged.find(put->session_id);
        if (it != logged.end() && it->second == put_number && index_.contains(put->session_id)) {
          add(core::RevocationEntryToJson(*put));
        }
        ++put_number;
      },
      &logged_version, /*repair=*/false);
  if (status.ok()) status = log;
  absl::StrAppend(&buffer, "\n]}\n");
  if (status.ok()) status = out.Append(buffer);
  bytes += buffer.size();
  // Not committed on an error: the writer removes its file, the base stays.
  EDGEPASS_RETURN_IF_ERROR(status);
  EDGEPASS_RETURN_IF_ERROR(out.Commit());
  base_version_ = version_;
  base_current_ = true;
  base_bytes_ = bytes;
  // The base holds every logged change now; should the truncation not
  // happen, records at or below its version are skipped at the next open.
  if (::ftruncate(log_fd_, 0) != 0) return Errno("truncate", log_path());
  if (::fdatasync(log_fd_) != 0) return Errno("fsync", log_path());
  log_bytes_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> FileSessionStore::Put(const core::RevocationEntry& entry) {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_RETURN_IF_ERROR(Open());
    EDGEPASS_RETURN_IF_ERROR(Append({&entry}, {}));
    version = version_;
  }
  Announce();
  return version;
}

absl::StatusOr<uint64_t> FileSessionStore::Remove(absl::string_view session_id) {
  uint64_t version = 0;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_RETURN_IF_ERROR(Open());
    if (!index_.contains(session_id)) {
      return absl::NotFoundError(absl::StrCat("session ", session_id.substr(0, 128), " is not revoked"));
    }
    EDGEPASS_RETURN_IF_ERROR(Append({}, {std::string(session_id)}));
    version = version_;
  }
  Announce();
  return version;
}

absl::StatusOr<ReportResult> FileSessionStore::ReportLocked(absl::Span<const core::RevocationEntry> entries) {
  if (entries.size() > kMaxReportBatch) {
    return absl::InvalidArgumentError(absl::StrCat("sessions: at most ", kMaxReportBatch, " per report"));
  }
  ReportResult out;
  std::vector<const core::RevocationEntry*> stored;
  std::vector<size_t> kept;  // indexes of entries already listed
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_RETURN_IF_ERROR(Open());
    absl::flat_hash_map<absl::string_view, bool> in_batch;
    for (const core::RevocationEntry& e : entries) {
      auto it = index_.find(e.session_id);
      if (it != index_.end()) {
        out.outcomes.push_back(it->second.type() == core::RevocationType::kManual ? ReportOutcome::kAlreadyManual
                                                                                : ReportOutcome::kAlreadyAuto);
        kept.push_back(out.outcomes.size() - 1);
      } else if (!in_batch.emplace(e.session_id, true).second) {
        out.outcomes.push_back(ReportOutcome::kAlreadyAuto);  // twice in one batch: the first counts
        kept.push_back(out.outcomes.size() - 1);
      } else {
        out.outcomes.push_back(ReportOutcome::kStored);
        stored.push_back(&e);
      }
    }
    if (!stored.empty()) EDGEPASS_RETURN_IF_ERROR(Append(stored, {}));
    out.version = version_;
    // What is kept for the others, from memory: the newest change of the
    // session when it is still among the recent ones, else what the index
    // holds (id, type, expiry), never a read of the files.
    out.entries.assign(entries.begin(), entries.end());
    for (size_t i : kept) {
      const std::string& id = entries[i].session_id;
      auto recent = std::find_if(recent_.rbegin(), recent_.rend(),
                                 [&](const SessionChange& c) { return c.session_id == id; });
      if (recent != recent_.rend() && recent->entry.has_value()) {
        out.entries[i] = *recent->entry;
        continue;
      }
      const Indexed& held = index_.find(id)->second;
      out.entries[i] = core::RevocationEntry{.session_id = id, .type = held.type(), .expires_at = held.expires_at()};
    }
  }
  return out;
}

absl::StatusOr<ReportResult> FileSessionStore::Report(absl::Span<const core::RevocationEntry> entries) {
  EDGEPASS_ASSIGN_OR_RETURN(ReportResult out, ReportLocked(entries));
  if (std::find(out.outcomes.begin(), out.outcomes.end(), ReportOutcome::kStored) != out.outcomes.end()) {
    Announce();
  }
  return out;
}

absl::StatusOr<SessionList> FileSessionStore::List() {
  absl::flat_hash_map<std::string, core::RevocationEntry> entries;
  EDGEPASS_ASSIGN_OR_RETURN(const SessionLoad loaded, Load([&](absl::string_view id, const core::RevocationEntry* put) {
                              if (put != nullptr) {
                                entries[id] = *put;
                              } else {
                                entries.erase(id);
                              }
                            }));
  SessionList out{.version = loaded.version};
  out.entries.reserve(entries.size());
  for (auto& [id, e] : entries) out.entries.push_back(std::move(e));
  return out;
}

absl::StatusOr<SessionPage> FileSessionStore::ListPage(absl::string_view after, size_t max) {
  absl::MutexLock lock(&mu_);
  EDGEPASS_RETURN_IF_ERROR(Open());
  std::vector<absl::string_view> ids;  // into the index, unchanged under the lock
  for (const auto& [id, indexed] : index_) {
    if (id.view() > after) ids.push_back(id.view());
  }
  const size_t n = std::min(ids.size(), max);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(n), ids.end());
  absl::flat_hash_map<absl::string_view, core::RevocationEntry> wanted;
  wanted.reserve(n);
  for (size_t i = 0; i < n; ++i) wanted.try_emplace(ids[i]);
  uint64_t version = 0;
  bool old_format = false;
  EDGEPASS_RETURN_IF_ERROR(Replay(
      [&](uint64_t, const core::RevocationEntry* put, absl::string_view) {
        if (put == nullptr) return;  // what is removed is not in the index
        auto it = wanted.find(put->session_id);
        if (it != wanted.end()) it->second = *put;
      },
      &version, &old_format, /*repair=*/false));
  SessionPage page{.more = ids.size() > n, .version = version_};
  page.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    core::RevocationEntry& e = wanted[ids[i]];
    if (!e.session_id.empty()) page.entries.push_back(std::move(e));
  }
  return page;
}

absl::StatusOr<SessionLoad> FileSessionStore::Load(LoadVisitor visit) {
  absl::MutexLock lock(&mu_);
  auto forward = [&](uint64_t, const core::RevocationEntry* put, absl::string_view removed) {
    visit(put != nullptr ? absl::string_view(put->session_id) : removed, put);
  };
  if (!open_) {  // the first read (a replica's start): builds the index on the way
    const Visit also = forward;
    EDGEPASS_RETURN_IF_ERROR(Open(&also));
    return SessionLoad{.version = version_, .count = index_.size()};
  }
  uint64_t version = 0;
  bool old_format = false;
  EDGEPASS_RETURN_IF_ERROR(Replay(forward, &version, &old_format, /*repair=*/false));
  return SessionLoad{.version = version, .count = index_.size()};
}

absl::StatusOr<SessionChanges> FileSessionStore::ChangesSince(uint64_t version) {
  absl::MutexLock lock(&mu_);
  EDGEPASS_RETURN_IF_ERROR(Open());
  SessionChanges out{.version = version_};
  if (version == version_) return out;
  if (version > version_ || version < recent_floor_) {
    out.too_old = true;
    return out;
  }
  auto it = std::upper_bound(recent_.begin(), recent_.end(), version,
                             [](uint64_t v, const SessionChange& c) { return v < c.version; });
  out.changes.assign(it, recent_.end());
  return out;
}

absl::StatusOr<size_t> FileSessionStore::Prune(absl::Time cutoff) {
  std::vector<std::string> dropped;
  {
    absl::MutexLock lock(&mu_);
    EDGEPASS_RETURN_IF_ERROR(Open());
    for (const auto& [id, e] : index_) {
      if (e.expiry_seconds() != Indexed::kNever && e.expires_at() < cutoff) dropped.push_back(id.str());
    }
    if (dropped.empty()) return size_t{0};
    EDGEPASS_RETURN_IF_ERROR(Append({}, dropped));
  }
  Announce();
  return dropped.size();
}

size_t FileSessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return index_.size();
}

size_t FileSessionStore::memory_bytes() const {
  absl::MutexLock lock(&mu_);
  size_t bytes = index_.capacity() * (sizeof(std::pair<const CompactId, Indexed>) + 1);
  for (const auto& [id, e] : index_) {
    if (id.size() > CompactId::kInlineBytes) bytes += id.size();
  }
  bytes += recent_.size() * (sizeof(SessionChange) + sizeof(core::RevocationEntry) + 256);
  return bytes;
}

}  // namespace edgepass::server
