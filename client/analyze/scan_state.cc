#include "client/analyze/scan_state.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "files/atomic_file.h"
#include "nlohmann/json.hpp"

namespace edgepass::analyze {
namespace {

constexpr char kFormat[] = "edgepass-analyze-state";
constexpr size_t kMaxStateBytes = 256 << 20;

}  // namespace

absl::StatusOr<ScanState> ScanState::Load(const std::string& path) {
  absl::StatusOr<std::string> text = files::ReadFileToString(path, kMaxStateBytes);
  if (text.status().code() == absl::StatusCode::kNotFound) return ScanState();
  if (!text.ok()) return text.status();
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("--state file '", path, "': ", what));
  };
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  if (j.value("format", "") != kFormat) return bad(absl::StrCat("format: expected \"", kFormat, "\""));
  ScanState state;
  const auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return bad("files: expected an array");
  for (size_t i = 0; i < files->size(); ++i) {
    const nlohmann::json& f = (*files)[i];
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.value("size", nlohmann::json()).is_number_unsigned() ||
        !f.value("consumed", nlohmann::json()).is_number_unsigned() || !f.value("mtime_ns", nlohmann::json()).is_number_integer()) {
      return bad(absl::StrCat("files[", i, "]: expected {path, size, mtime_ns, consumed, gzip}"));
    }
    state.files_[f["path"].get<std::string>()] = {.size = f["size"].get<uint64_t>(),
                                                  .mtime_ns = f["mtime_ns"].get<int64_t>(),
                                                  .consumed = f["consumed"].get<uint64_t>(),
                                                  .gzip = f.value("gzip", false)};
  }
  const auto reported = j.find("reported");
  if (reported != j.end()) {
    if (!reported->is_object()) return bad("reported: expected an object");
    for (const auto& [id, at] : reported->items()) {
      if (!at.is_number_integer()) return bad(absl::StrCat("reported.", id, ": expected Unix seconds"));
      state.reported_[id] = at.get<int64_t>();
    }
  }
  return state;
}

absl::Status ScanState::Save(const std::string& path) const {
  nlohmann::json j = {{"format", kFormat}, {"format_version", 1}};
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [p, m] : files_) {
    files.push_back({{"path", p}, {"size", m.size}, {"mtime_ns", m.mtime_ns}, {"consumed", m.consumed},
                     {"gzip", m.gzip}});
  }
  j["files"] = std::move(files);
  j["reported"] = reported_;
  return files::WriteFileAtomically(path, j.dump(1) + "\n");
}

std::vector<InputFile> ScanState::Plan(const std::vector<std::string>& paths) const {
  std::vector<InputFile> out;
  for (const std::string& p : paths) {
    auto it = files_.find(p);
    if (it == files_.end()) {
      out.push_back({.path = p});
      continue;
    }
    const FileMark& m = it->second;
    // The current size decides; mtime only matters for gzip (rewritten whole).
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) continue;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (m.gzip) {
      if (size != m.size || mtime_ns != m.mtime_ns) out.push_back({.path = p});
    } else if (size < m.consumed) {
      out.push_back({.path = p});  // replaced by a shorter file
    } else if (size > m.consumed) {
      out.push_back({.path = p, .offset = m.consumed});
    }
  }
  return out;
}

void ScanState::Record(const std::vector<FileOutcome>& outcomes) {
  for (const FileOutcome& o : outcomes) {
    if (!o.readable) continue;
    files_[o.path] = {.size = o.size, .mtime_ns = o.mtime_ns, .consumed = o.consumed, .gzip = o.gzip};
  }
}

void ScanState::ForgetReportedBefore(int64_t cutoff_s) {
  for (auto it = reported_.begin(); it != reported_.end();) {
    it = it->second < cutoff_s ? reported_.erase(it) : std::next(it);
  }
}

void SlidingSessions::Add(std::map<int64_t, SessionTable>&& buckets) {
  for (auto& [b, t] : buckets) {
    auto [it, inserted] = buckets_.try_emplace(b, SessionTable(t.window()));
    it->second.Merge(std::move(t));
  }
  buckets.clear();
}

SessionTable SlidingSessions::Current(const Window& window) {
  while (!buckets_.empty() && (buckets_.begin()->first + 1) * kBucketMs <= window.start_ms) {
    buckets_.erase(buckets_.begin());
  }
  SessionTable out(window);
  for (const auto& [b, t] : buckets_) {
    if (b * kBucketMs > window.end_ms) break;
    SessionTable copy = t;
    out.Merge(std::move(copy));
  }
  return out;
}

}  // namespace edgepass::analyze
