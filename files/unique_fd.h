// A file descriptor closed when its owner goes, whichever way a read ends.
//
//   files::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
//   if (fd.get() < 0) return Error(errno);
#ifndef EDGEPASS_FILES_UNIQUE_FD_H_
#define EDGEPASS_FILES_UNIQUE_FD_H_

#include <unistd.h>

namespace edgepass::files {

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace edgepass::files

#endif  // EDGEPASS_FILES_UNIQUE_FD_H_
