// edgepass-options-doc: keeps the option tables in docs/ equal to what the
// option declarations produce, so the docs cannot drift from the flags.
//
//   edgepass-options-doc --check SOURCE_DIR   exit 1, printing each fresh
//                                             table, when one is stale (ctest)
//   edgepass-options-doc --write SOURCE_DIR   rewrite the stale tables
//                                             (cmake --build build --target
//                                             options_docs)
//
// Each table sits between "<!-- BEGIN GENERATED: NAME ... -->" and
// "<!-- END GENERATED -->" lines; the prose around it is left alone.
// Exit codes: 0 up to date or rewritten, 1 stale, 2 bad usage, an unreadable
// or unwritable file, or markers missing.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "client/sidecar/sidecar_options.h"
#include "server/config.h"

namespace {

struct Section {
  const char* name;  // in the BEGIN marker
  const char* file;  // under SOURCE_DIR
  std::string (*render)();
};

constexpr Section kSections[] = {
    {"edgepass-server options", "docs/configuration.md",
     edgepass::server::ConfigurationMarkdown},
    {"edgepass-validator options", "docs/sidecar.md",
     edgepass::sidecar::SidecarOptionsMarkdown},
};

constexpr char kEnd[] = "<!-- END GENERATED -->\n";

std::string BeginMarker(const Section& section) {
  return std::string("<!-- BEGIN GENERATED: ") + section.name +
         " (edgepass-options-doc; do not edit by hand) -->\n";
}

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *text = buffer.str();
  return true;
}

// 0 up to date (or rewritten), 1 stale, 2 error.
int Process(const Section& section, const std::string& dir, bool write) {
  const std::string path = dir + "/" + section.file;
  const std::string table = section.render();
  const std::string begin_marker = BeginMarker(section);
  std::string text;
  if (!ReadFile(path, &text)) {
    std::cerr << path << ": cannot read\n";
    return 2;
  }
  const size_t begin = text.find(begin_marker);
  const size_t end = begin == std::string::npos
                         ? std::string::npos
                         : text.find(kEnd, begin + begin_marker.size());
  if (end == std::string::npos) {
    std::cerr << path << ": no \"" << begin_marker << "\" ... \"" << kEnd
              << "\" markers\n";
    return 2;
  }
  const size_t at = begin + begin_marker.size();
  if (text.compare(at, end - at, table) == 0) return 0;
  if (!write) {
    std::cerr << path << ": the " << section.name
              << " table is stale; run `cmake --build build --target "
                 "options_docs`. The fresh table:\n\n"
              << table << "\n";
    return 1;
  }
  text.replace(at, end - at, table);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) {
    std::cerr << path << ": cannot write\n";
    return 2;
  }
  std::cerr << path << ": " << section.name << " table rewritten\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (mode != "--write" && mode != "--check") {
    std::cerr << "usage: edgepass-options-doc --check|--write SOURCE_DIR\n";
    return 2;
  }
  int status = 0;
  for (const Section& section : kSections) {
    const int s = Process(section, argv[2], mode == "--write");
    if (s > status) status = s;
  }
  return status;
}
