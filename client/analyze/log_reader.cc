#include "client/analyze/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/analyze/json_log_parser.h"
#include "client/analyze/log_text.h"
#include "client/analyze/w3c_parser.h"
#include "files/unique_fd.h"

namespace edgepass::analyze {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr size_t kGzipInChunk = 256 << 10;
constexpr size_t kHeaderScanBytes = 64 << 10;

// read(2) until `n` bytes or end of file; -1 on error.
ssize_t ReadFull(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

// Splits a byte stream into lines for a visitor, copying only lines that
// straddle two chunks.
class LineSplitter {
 public:
  LineSplitter(LineVisitor& visitor, ParseStats* stats) : visitor_(visitor), stats_(stats) {}

  void Feed(const char* data, size_t n) {
    const char* p = data;
    const char* const end = data + n;
    while (p < end) {
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      if (nl == nullptr) {
        Carry(p, static_cast<size_t>(end - p));
        return;
      }
      const char* stop = static_cast<const char*>(nl);
      const size_t len = static_cast<size_t>(stop - p);
      if (pending_ == 0) {
        Emit(absl::string_view(p, len));
        consumed_ += len + 1;
      } else {
        Carry(p, len);
        if (!skipping_) Emit(carry_);
        consumed_ += pending_ + 1;
      }
      carry_.clear();
      pending_ = 0;
      skipping_ = false;
      p = stop + 1;
    }
  }

  // The stream ended: a last line without '\n' is parsed when `emit_partial`.
  void Finish(bool emit_partial) {
    if (emit_partial && pending_ > 0) {
      if (!skipping_) Emit(carry_);
      consumed_ += pending_;
    }
    carry_.clear();
    pending_ = 0;
    skipping_ = false;
  }

  uint64_t consumed() const { return consumed_; }

 private:
  void Carry(const char* p, size_t n) {
    pending_ += n;
    if (skipping_) return;
    if (carry_.size() + n > kMaxLineBytes + 1) {  // +1: a '\r' before '\n'
      skipping_ = true;
      carry_.clear();
      stats_->Count(LineError::kTooLong);
      return;
    }
    carry_.append(p, n);
  }

  void Emit(absl::string_view line) {
    if (line.size() > kMaxLineBytes + 1) {
      stats_->Count(LineError::kTooLong);
      return;
    }
    visitor_.OnLine(line);
  }

  LineVisitor& visitor_;
  ParseStats* stats_;
  std::string carry_;
  uint64_t pending_ = 0;  // bytes of the current, unterminated line
  uint64_t consumed_ = 0;
  bool skipping_ = false;
};

// Feeds the '#' lines at the start of the file (its header) to the visitor.
void ReadHeaderLines(int fd, LineVisitor& visitor) {
  std::string head(kHeaderScanBytes, '\0');
  const ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  if (n <= 0) return;
  absl::string_view rest(head.data(), static_cast<size_t>(n));
  while (!rest.empty() && rest[0] == '#') {
    const size_t nl = rest.find('\n');
    if (nl == absl::string_view::npos) return;
    visitor.OnLine(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
}

void ReadPlain(int fd, uint64_t offset, bool emit_partial, LineVisitor& visitor, ParseStats* stats,
               FileOutcome* out) {
  if (offset > out->size) offset = 0;  // shorter than before: a new file under the old name
  if (offset > 0) {
    ReadHeaderLines(fd, visitor);
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
      ++stats->unreadable_files;
      return;
    }
  }
  LineSplitter splitter(visitor, stats);
  std::unique_ptr<char[]> buf(new char[kReadChunk]);
  while (true) {
    const ssize_t n = ReadFull(fd, buf.get(), kReadChunk);
    if (n < 0) {
      ++stats->unreadable_files;
      break;
    }
    if (n == 0) break;
    stats->bytes_read += static_cast<uint64_t>(n);
    splitter.Feed(buf.get(), static_cast<size_t>(n));
  }
  splitter.Finish(emit_partial);
  out->consumed = offset + splitter.consumed();
}

void ReadGzip(int fd, LineVisitor& visitor, ParseStats* stats, FileOutcome* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    ++stats->unreadable_files;
    return;
  }
  std::unique_ptr<unsigned char[]> in(new unsigned char[kGzipInChunk]);
  std::unique_ptr<unsigned char[]> buf(new unsigned char[kReadChunk]);
  LineSplitter splitter(visitor, stats);
  bool eof = false;
  bool stream_end = false;
  bool failed = false;
  while (true) {
    if (zs.avail_in == 0 && !eof) {
      const ssize_t n = ReadFull(fd, reinterpret_cast<char*>(in.get()), kGzipInChunk);
      if (n < 0) {
        ++stats->unreadable_files;
        failed = true;
        break;
      }
      if (n == 0) eof = true;
      stats->bytes_read += static_cast<uint64_t>(n);
      zs.next_in = in.get();
      zs.avail_in = static_cast<uInt>(n);
    }
    if (zs.avail_in == 0 && eof) break;
    if (stream_end) {  // another gzip member follows
      inflateReset(&zs);
      stream_end = false;
    }
    zs.next_out = buf.get();
    zs.avail_out = static_cast<uInt>(kReadChunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    splitter.Feed(reinterpret_cast<const char*>(buf.get()), kReadChunk - zs.avail_out);
    if (rc == Z_STREAM_END) {
      stream_end = true;
    } else if (rc == Z_BUF_ERROR) {
      if (eof && zs.avail_in == 0) break;  // no progress possible: truncated
    } else if (rc != Z_OK) {
      ++stats->corrupt_gzip;
      failed = true;
      break;
    }
  }
  if (!failed && !stream_end) ++stats->truncated_gzip;
  inflateEnd(&zs);
  // The lines decompressed so far count, even from a damaged stream.
  splitter.Finish(/*emit_partial=*/stream_end);
  out->consumed = out->size;
}

// Where a worker's records go: one table, or one per time bucket.
struct TableSink {
  SessionTable table;
  std::map<int64_t, SessionTable> buckets;
  int64_t bucket_ms = 0;

  SessionTable& For(int64_t time_ms) {
    if (bucket_ms <= 0) return table;
    const int64_t b = time_ms >= 0 ? time_ms / bucket_ms : -1;
    auto it = buckets.find(b);
    if (it == buckets.end()) it = buckets.emplace(b, SessionTable(table.window())).first;
    return it->second;
  }
};

// Parses lines by the format the file starts with.
class FileParser : public LineVisitor {
 public:
  FileParser(TableSink& sink, ParseStats& stats) : sink_(sink), stats_(stats) {}

  void OnLine(absl::string_view line) override {
    if (format_ == Format::kUnknown) {
      size_t i = 0;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      if (i == line.size()) {
        stats_.Count(LineError::kHeader);
        return;
      }
      format_ = line[i] == '{' ? Format::kJson : Format::kW3c;
    }
    const LineError e = format_ == Format::kJson ? json_.Parse(line, &record_) : w3c_.Parse(line, &record_);
    stats_.Count(e);
    if (e != LineError::kNone) return;
    switch (sink_.For(record_.time_ms).Add(record_)) {
      case AddResult::kKept: ++stats_.kept; break;
      case AddResult::kFiltered: ++stats_.filtered; break;
      case AddResult::kNoSession: ++stats_.no_session; break;
    }
  }

 private:
  enum class Format { kUnknown, kW3c, kJson };
  TableSink& sink_;
  ParseStats& stats_;
  Format format_ = Format::kUnknown;
  W3cParser w3c_;
  JsonLogParser json_;
  LogRecord record_;
};

}  // namespace

FileOutcome ReadLines(const InputFile& input, bool read_unterminated_last_line, LineVisitor& visitor,
                      ParseStats* stats) {
  FileOutcome out{.path = input.path};
  ++stats->files;
  files::UniqueFd fd(::open(input.path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    ++stats->unreadable_files;
    return out;
  }
  out.readable = true;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  unsigned char magic[2] = {0, 0};
  out.gzip = ::pread(fd.get(), magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  if (out.gzip) {
    ReadGzip(fd.get(), visitor, stats, &out);
  } else {
    ReadPlain(fd.get(), input.offset, read_unterminated_last_line, visitor, stats, &out);
  }
  return out;
}

ReadResult ReadLogs(const std::vector<InputFile>& inputs, const ReadOptions& options) {
  ReadResult result{.table = SessionTable(options.window)};
  result.files.resize(inputs.size());
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  threads = std::max<size_t>(1, std::min(threads, inputs.size()));
  struct Worker {
    TableSink sink;
    ParseStats stats;
  };
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(
        Worker{.sink = {.table = SessionTable(options.window), .bucket_ms = options.bucket_ms}}));
  }
  std::atomic<size_t> next{0};
  auto work = [&](Worker& w) {
    for (size_t i = next++; i < inputs.size(); i = next++) {
      FileParser parser(w.sink, w.stats);
      result.files[i] = ReadLines(inputs[i], options.read_unterminated_last_line, parser, &w.stats);
    }
  };
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(work, std::ref(*workers[i]));
  work(*workers[0]);
  for (std::thread& t : pool) t.join();
  for (auto& w : workers) {
    result.table.Merge(std::move(w->sink.table));
    for (auto& [b, t] : w->sink.buckets) {
      auto [it, inserted] = result.buckets.try_emplace(b, SessionTable(options.window));
      it->second.Merge(std::move(t));
    }
    result.stats.Merge(w->stats);
  }
  return result;
}

}  // namespace edgepass::analyze
