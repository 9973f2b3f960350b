#include "client/analyze/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
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
// gzip files up to this size (compressed, and decompressed) are decompressed
// whole with libdeflate, which has no streaming interface; larger ones are
// streamed with zlib so that memory does not grow with the file.
// (kMaxWholeGzipBytes decompressed, log_reader.h.)
constexpr size_t kWholeGzipMaxInBytes = 8 << 20;
// One file on several threads: blocks of whole lines this large, at most
// kBlocksPerParser of them queued per parser thread.
constexpr size_t kBlockBytes = 1 << 20;
constexpr size_t kBlockCapacity = 2 * kBlockBytes;
constexpr size_t kBlocksPerParser = 2;

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

// Where a file's bytes go once read (and decompressed): split into lines
// here, or cut into blocks of whole lines for parsers on other threads.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Space to read into: Commit(n) then passes its first n bytes on.
  virtual char* Buffer(size_t* size) = 0;
  virtual void Commit(size_t n) = 0;
  // Bytes held elsewhere.
  virtual void Feed(const char* data, size_t n) = 0;
  // A '#' header line read again before resuming a plain file at an offset:
  // parsed, but not part of what is consumed.
  virtual void HeaderLine(absl::string_view line) = 0;
  // The stream ended: a last line without '\n' is parsed when `emit_partial`.
  virtual void Finish(bool emit_partial) = 0;
  // Bytes of the lines passed on (or dropped as too long), '\n' included.
  virtual uint64_t consumed() const = 0;
};

// Splits a byte stream into lines for a visitor, copying only lines that
// straddle two chunks.
class LineSplitter : public ByteSink {
 public:
  LineSplitter(LineVisitor& visitor, ParseStats* stats) : visitor_(visitor), stats_(stats) {}

  char* Buffer(size_t* size) override {
    if (buffer_ == nullptr) buffer_.reset(new char[kReadChunk]);
    *size = kReadChunk;
    return buffer_.get();
  }
  void Commit(size_t n) override { Feed(buffer_.get(), n); }
  void HeaderLine(absl::string_view line) override { visitor_.OnLine(line); }

  void Feed(const char* data, size_t n) override {
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

  void Finish(bool emit_partial) override {
    if (emit_partial && pending_ > 0) {
      if (!skipping_) Emit(carry_);
      consumed_ += pending_;
    }
    carry_.clear();
    pending_ = 0;
    skipping_ = false;
  }

  uint64_t consumed() const override { return consumed_; }

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
  std::unique_ptr<char[]> buffer_;
  std::string carry_;
  uint64_t pending_ = 0;  // bytes of the current, unterminated line
  uint64_t consumed_ = 0;
  bool skipping_ = false;
};

// Passes the '#' lines at the start of the file (its header) on.
void ReadHeaderLines(int fd, ByteSink& sink) {
  std::string head(kHeaderScanBytes, '\0');
  const ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  if (n <= 0) return;
  absl::string_view rest(head.data(), static_cast<size_t>(n));
  while (!rest.empty() && rest[0] == '#') {
    const size_t nl = rest.find('\n');
    if (nl == absl::string_view::npos) return;
    sink.HeaderLine(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
}

void ReadPlain(int fd, uint64_t offset, bool emit_partial, ByteSink& sink, ParseStats* stats, FileOutcome* out) {
  if (offset > out->size) offset = 0;  // shorter than before: a new file under the old name
  if (offset > 0) {
    ReadHeaderLines(fd, sink);
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
      ++stats->unreadable_files;
      return;
    }
  }
  while (true) {
    size_t room = 0;
    char* buf = sink.Buffer(&room);
    const ssize_t n = ReadFull(fd, buf, room);
    if (n < 0) {
      ++stats->unreadable_files;
      break;
    }
    if (n == 0) break;
    stats->bytes_read += static_cast<uint64_t>(n);
    sink.Commit(static_cast<size_t>(n));
  }
  sink.Finish(emit_partial);
  out->consumed = offset + sink.consumed();
}

// A small gzip file in one go with libdeflate (about twice zlib's speed).
// False, having passed nothing to the visitor, when the file is too large or
// any member does not decompress (truncated, corrupt, trailing bytes):
// ReadGzip's zlib loop then reads it, and counts the damage, as before.
bool ReadGzipWhole(int fd, size_t max_out, ByteSink& sink, ParseStats* stats, FileOutcome* out) {
  const uint64_t size = out->size;
  if (size < 18 || size > kWholeGzipMaxInBytes || max_out == 0) return false;
  std::unique_ptr<char[]> in(new char[size]);
  size_t got = 0;
  while (got < size) {
    const ssize_t r = ::pread(fd, in.get() + got, size - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  // The last member's ISIZE (its length mod 2^32): the whole output of a
  // file of one member, as CloudFront writes them.
  uint32_t isize = 0;
  std::memcpy(&isize, in.get() + size - 4, 4);
  const size_t cap = std::max<size_t>(isize, 8 * size);
  if (isize > max_out) return false;
  const size_t out_cap = std::min(cap, max_out);
  std::unique_ptr<char[]> text(new char[out_cap]);
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> d(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  if (d == nullptr) return false;
  size_t in_at = 0, out_at = 0;
  while (in_at < size) {
    size_t in_used = 0, out_got = 0;
    if (libdeflate_gzip_decompress_ex(d.get(), in.get() + in_at, size - in_at, text.get() + out_at,
                                      out_cap - out_at, &in_used, &out_got) != LIBDEFLATE_SUCCESS ||
        in_used == 0) {
      return false;
    }
    in_at += in_used;
    out_at += out_got;
  }
  stats->bytes_read += size;
  sink.Feed(text.get(), out_at);
  sink.Finish(/*emit_partial=*/true);
  out->consumed = out->size;
  return true;
}

void ReadGzip(int fd, size_t max_whole, ByteSink& sink, ParseStats* stats, FileOutcome* out) {
  if (ReadGzipWhole(fd, max_whole, sink, stats, out)) return;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    ++stats->unreadable_files;
    return;
  }
  std::unique_ptr<unsigned char[]> in(new unsigned char[kGzipInChunk]);
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
    size_t room = 0;
    char* buf = sink.Buffer(&room);
    zs.next_out = reinterpret_cast<unsigned char*>(buf);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    sink.Commit(room - zs.avail_out);
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
  sink.Finish(/*emit_partial=*/stream_end);
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

  enum class Format { kUnknown, kW3c, kJson };

  // The file's context at the start of a block parsed on another thread:
  // its format when known, and the W3C "#Fields:" line then in effect (not
  // counted: the thread that met it counts it).
  void Prepare(Format format, const std::shared_ptr<const std::string>& fields) {
    if (format_ == Format::kUnknown) format_ = format;
    if (fields != nullptr && fields != applied_fields_) {
      LogRecord ignored;
      w3c_.Parse(*fields, &ignored);
      applied_fields_ = fields;
    }
  }

  // The format a file's lines are parsed by once `line` is met (kUnknown
  // for a line of blanks only), as OnLine decides it.
  static Format FormatOf(absl::string_view line) {
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i == line.size()) return Format::kUnknown;
    return line[i] == '{' ? Format::kJson : Format::kW3c;
  }

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
  TableSink& sink_;
  ParseStats& stats_;
  Format format_ = Format::kUnknown;
  std::shared_ptr<const std::string> applied_fields_;
  W3cParser w3c_;
  JsonLogParser json_;
  LogRecord record_;
};

// Whole lines of one file, '\n'-terminated, with the context a parser on
// another thread needs to read them as a single reader would.
struct Block {
  std::unique_ptr<char[]> data;  // kBlockCapacity bytes
  size_t size = 0;
  FileParser::Format format = FileParser::Format::kUnknown;  // as known at the block's start
  std::shared_ptr<const std::string> fields;                 // W3C "#Fields:" line in effect
};

// A bounded queue of blocks: the reader parses a block itself when parsers
// fall behind, so memory stays at a few blocks whatever the file size.
class BlockQueue {
 public:
  explicit BlockQueue(size_t capacity) : capacity_(capacity) {}

  // Queues `block` unless the queue is full (then leaves it alone).
  bool TryPush(Block& block) {
    std::lock_guard<std::mutex> lock(mu_);
    if (blocks_.size() >= capacity_) return false;
    blocks_.push_back(std::move(block));
    not_empty_.notify_one();
    return true;
  }
  // A queued block, without waiting for one.
  bool TryPop(Block* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (blocks_.empty()) return false;
    *out = std::move(blocks_.front());
    blocks_.pop_front();
    return true;
  }
  // False once Close() was called and every block was taken.
  bool Pop(Block* out) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !blocks_.empty() || closed_; });
    if (blocks_.empty()) return false;
    *out = std::move(blocks_.front());
    blocks_.pop_front();
    return true;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }

  // A parsed block's buffer, for the reader to fill again: fresh buffers
  // would cost a page fault per 4 KiB.
  void Recycle(std::unique_ptr<char[]> buffer) {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.size() < capacity_ + 1) spare_.push_back(std::move(buffer));
  }
  // A buffer of kBlockCapacity bytes, recycled when one is.
  std::unique_ptr<char[]> TakeSpare() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!spare_.empty()) {
        std::unique_ptr<char[]> out = std::move(spare_.back());
        spare_.pop_back();
        return out;
      }
    }
    return std::unique_ptr<char[]>(new char[kBlockCapacity]);
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::deque<Block> blocks_;
  std::vector<std::unique_ptr<char[]>> spare_;
  size_t capacity_;
  bool closed_ = false;
};

// Parses blocks into one worker's table, on whichever thread holds them.
class BlockParser {
 public:
  BlockParser(TableSink& sink, ParseStats& stats) : parser_(sink, stats), splitter_(parser_, &stats) {}
  void Parse(const Block& block) {
    parser_.Prepare(block.format, block.fields);
    splitter_.Feed(block.data.get(), block.size);
  }

 private:
  FileParser parser_;
  LineSplitter splitter_;
};

// The reading thread's sink: the file's bytes, read (and decompressed)
// straight into blocks, cut after their last whole line, with the file's
// format and current "#Fields:" line tracked at each cut. A line longer than
// a block can hold is dropped here (kTooLong) as LineSplitter drops it;
// shorter too-long lines are left to the parsers' splitters. A block the
// parsers have no room for is parsed here, by `here`: the reading thread
// parses whenever decompressing is ahead.
class BlockCutter : public ByteSink {
 public:
  BlockCutter(BlockQueue& queue, ParseStats* stats, BlockParser& here) : queue_(queue), stats_(stats), here_(here) {
    Start();
  }

  char* Buffer(size_t* size) override {
    *size = kBlockCapacity - block_.size;
    return block_.data.get() + block_.size;
  }

  void Commit(size_t n) override {
    total_ += n;
    if (skipping_ > 0) {
      // Inside a dropped line: keep what follows its end.
      char* fresh = block_.data.get() + block_.size;
      const void* nl = std::memchr(fresh, '\n', n);
      if (nl == nullptr) {
        skipping_ += n;
        return;
      }
      const size_t rest = n - (static_cast<const char*>(nl) + 1 - fresh);
      std::memmove(fresh, static_cast<const char*>(nl) + 1, rest);
      skipping_ = 0;
      n = rest;
    }
    block_.size += n;
    if (block_.size >= kBlockBytes) Cut(/*at_end=*/false);
  }

  void Feed(const char* data, size_t n) override {
    while (n > 0) {
      size_t room = 0;
      char* buf = Buffer(&room);
      const size_t take = std::min(room, n);
      std::memcpy(buf, data, take);
      Commit(take);
      data += take;
      n -= take;
    }
  }

  void HeaderLine(absl::string_view line) override {
    // Before any data: the block has room.
    std::memcpy(block_.data.get() + block_.size, line.data(), line.size());
    block_.data[block_.size + line.size()] = '\n';
    block_.size += line.size() + 1;
  }

  void Finish(bool emit_partial) override {
    uint64_t partial = skipping_;
    if (skipping_ == 0) {
      const char* data = block_.data.get();
      const void* nl = block_.size > 0 ? ::memrchr(data, '\n', block_.size) : nullptr;
      partial = block_.size - (nl == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(nl) + 1 - data));
      if (!emit_partial) {
        block_.size -= partial;
      } else if (partial > 0) {
        block_.data[block_.size++] = '\n';  // blocks end with whole lines
      }
    }
    skipping_ = 0;
    if (!emit_partial) total_ -= partial;
    Cut(/*at_end=*/true);
  }

  uint64_t consumed() const override { return total_; }

 private:
  // Passes the block's whole lines on (at the end: all of it) and starts the
  // next block with the rest.
  void Cut(bool at_end) {
    size_t keep = block_.size;
    if (!at_end) {
      const char* data = block_.data.get();
      const void* nl = ::memrchr(data, '\n', block_.size);
      keep = nl == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(nl) + 1 - data);
    }
    const size_t rest = block_.size - keep;
    Block next{.data = queue_.TakeSpare()};
    if (rest > kMaxLineBytes + 1) {  // +1: a '\r' before '\n'
      stats_->Count(LineError::kTooLong);
      skipping_ = rest;
    } else {
      std::memcpy(next.data.get(), block_.data.get() + keep, rest);
      next.size = rest;
    }
    block_.size = keep;
    Track();
    if (block_.size > 0 && !queue_.TryPush(block_)) {
      here_.Parse(block_);
      queue_.Recycle(std::move(block_.data));
    }
    block_ = std::move(next);
    block_.format = format_;
    block_.fields = fields_;
  }

  // The format and "#Fields:" line in effect after the block's lines.
  void Track() {
    absl::string_view text(block_.data.get(), block_.size);
    for (size_t at = 0; format_ == FileParser::Format::kUnknown && at < text.size();) {
      const size_t nl = std::min(text.find('\n', at), text.size());
      format_ = FileParser::FormatOf(text.substr(at, nl - at));
      at = nl + 1;
    }
    // Lines starting with '#': the first, and any after a '\n'.
    for (size_t at = 0; at < text.size(); ++at) {
      at = text.find('#', at);
      if (at == absl::string_view::npos) break;
      if (at > 0 && text[at - 1] != '\n') continue;
      const size_t nl = std::min(text.find('\n', at), text.size());
      // A new header: the lines after it are read by it, in this block (the
      // parser meets the line itself) and in the blocks that follow.
      if (IsFieldsHeader(text.substr(at, nl - at))) {
        fields_ = std::make_shared<const std::string>(text.substr(at, nl - at));
      }
    }
  }

  // A "#Fields:" line W3cParser takes (the checks of W3cParser::Parse).
  static bool IsFieldsHeader(absl::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line.size() <= kMaxLineBytes && absl::StartsWith(line, "#Fields:") && IsValidUtf8(line);
  }

  void Start() { block_ = Block{.data = queue_.TakeSpare()}; }

  BlockQueue& queue_;
  ParseStats* stats_;
  BlockParser& here_;
  Block block_;
  uint64_t total_ = 0;     // bytes committed (after Finish: consumed)
  uint64_t skipping_ = 0;  // bytes of a dropped line so far; 0: not in one
  FileParser::Format format_ = FileParser::Format::kUnknown;
  std::shared_ptr<const std::string> fields_;
};

}  // namespace

namespace {

// Reads `input` into `sink`, as ReadLines describes.
FileOutcome ReadInto(const InputFile& input, bool read_unterminated_last_line, ByteSink& sink, ParseStats* stats,
                     size_t max_whole_gzip_bytes) {
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
    ReadGzip(fd.get(), std::min(max_whole_gzip_bytes, kMaxWholeGzipBytes), sink, stats, &out);
  } else {
    ReadPlain(fd.get(), input.offset, read_unterminated_last_line, sink, stats, &out);
  }
  return out;
}

}  // namespace

FileOutcome ReadLines(const InputFile& input, bool read_unterminated_last_line, LineVisitor& visitor,
                      ParseStats* stats, size_t max_whole_gzip_bytes) {
  LineSplitter splitter(visitor, stats);
  return ReadInto(input, read_unterminated_last_line, splitter, stats, max_whole_gzip_bytes);
}

namespace {

struct Worker {
  TableSink sink;
  ParseStats stats;
};

// One file read on this thread, which parses into the first worker's table
// whenever the other workers' threads are busy: same records, stats and
// outcome as ReadLines into one FileParser.
FileOutcome ReadOnThreads(const InputFile& input, const ReadOptions& options,
                          std::vector<std::unique_ptr<Worker>>& workers, ParseStats* reader_stats) {
  BlockQueue queue(kBlocksPerParser * (workers.size() - 1));
  std::vector<std::thread> parsers;
  for (size_t i = 1; i < workers.size(); ++i) {
    parsers.emplace_back([&queue, &w = *workers[i]] {
      BlockParser parser(w.sink, w.stats);
      Block block;
      while (queue.Pop(&block)) {
        parser.Parse(block);
        queue.Recycle(std::move(block.data));
      }
    });
  }
  BlockParser here(workers[0]->sink, workers[0]->stats);
  BlockCutter cutter(queue, reader_stats, here);
  FileOutcome out = ReadInto(input, options.read_unterminated_last_line, cutter, reader_stats,
                             options.max_whole_gzip_bytes);
  Block block;
  while (queue.TryPop(&block)) {  // help with what is left
    here.Parse(block);
    queue.Recycle(std::move(block.data));
  }
  queue.Close();
  for (std::thread& t : parsers) t.join();
  return out;
}

}  // namespace

ReadResult ReadLogs(const std::vector<InputFile>& inputs, const ReadOptions& options) {
  ReadResult result{.table = SessionTable(options.window)};
  result.files.resize(inputs.size());
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  // Fewer files than threads: each file read on this thread and parsed on
  // all of them, this one included (a single large gzip file is the common
  // case), else one file per thread.
  const bool split_files = threads > 1 && inputs.size() < threads;
  if (!split_files) threads = std::max<size_t>(1, std::min(threads, inputs.size()));
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(
        Worker{.sink = {.table = SessionTable(options.window), .bucket_ms = options.bucket_ms}}));
  }
  if (split_files) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      result.files[i] = ReadOnThreads(inputs[i], options, workers, &result.stats);
    }
  } else {
    std::atomic<size_t> next{0};
    auto work = [&](Worker& w) {
      for (size_t i = next++; i < inputs.size(); i = next++) {
        FileParser parser(w.sink, w.stats);
        result.files[i] = ReadLines(inputs[i], options.read_unterminated_last_line, parser, &w.stats,
                                    options.max_whole_gzip_bytes);
      }
    };
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; ++i) pool.emplace_back(work, std::ref(*workers[i]));
    work(*workers[0]);
    for (std::thread& t : pool) t.join();
  }
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
