// edgepass-config-doc: keeps docs/configuration.md's option table equal to
// ConfigurationMarkdown(), which comes from the one option declaration.
//
//   edgepass-config-doc                 print the table
//   edgepass-config-doc --write FILE    replace the table in FILE
//   edgepass-config-doc --check FILE    exit 1, printing the fresh table, when
//                                       FILE's table differs (a ctest)
//
// The table sits between the lines kBegin and kEnd; the prose around it is
// left alone. Exit codes: 0 done or up to date, 1 stale, 2 bad usage or an
// unreadable file, or markers missing.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "server/config.h"

namespace {

constexpr char kBegin[] =
    "<!-- BEGIN GENERATED: edgepass-config-doc (do not edit by hand) -->\n";
constexpr char kEnd[] = "<!-- END GENERATED -->\n";

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string table = edgepass::server::ConfigurationMarkdown();
  if (argc == 1) {
    std::cout << table;
    return 0;
  }
  const std::string mode = argv[1];
  if (argc != 3 || (mode != "--write" && mode != "--check")) {
    std::cerr << "usage: edgepass-config-doc [--write FILE | --check FILE]\n";
    return 2;
  }
  const std::string path = argv[2];
  std::string text;
  if (!ReadFile(path, &text)) {
    std::cerr << path << ": cannot read\n";
    return 2;
  }
  const size_t begin = text.find(kBegin);
  const size_t end = begin == std::string::npos
                         ? std::string::npos
                         : text.find(kEnd, begin + sizeof(kBegin) - 1);
  if (end == std::string::npos) {
    std::cerr << path << ": no \"" << kBegin << "\" ... \"" << kEnd
              << "\" markers\n";
    return 2;
  }
  const size_t table_at = begin + sizeof(kBegin) - 1;
  if (text.compare(table_at, end - table_at, table) == 0) return 0;
  if (mode == "--check") {
    std::cerr << path
              << " is stale: run `cmake --build build --target config_docs` "
                 "(or edgepass-config-doc --write "
              << path << "). The fresh table:\n\n"
              << table;
    return 1;
  }
  text.replace(table_at, end - table_at, table);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) {
    std::cerr << path << ": cannot write\n";
    return 2;
  }
  return 0;
}
