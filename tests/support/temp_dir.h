// A fresh directory under $TMPDIR (or /tmp) for one test, removed with
// everything in it by the destructor, even when the test failed.
//
//   TempDir dir;
//   WriteFileOrDie(dir.path() + "/catalog.json", "{}");
#ifndef EDGEPASS_TESTS_SUPPORT_TEMP_DIR_H_
#define EDGEPASS_TESTS_SUPPORT_TEMP_DIR_H_

#include <string>

namespace edgepass::testing {

class TempDir {
 public:
  TempDir();  // aborts the test program when the directory cannot be made
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_SUPPORT_TEMP_DIR_H_
