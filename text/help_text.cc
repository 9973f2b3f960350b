#include "text/help_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace edgepass::text {

void AppendHelpEntry(absl::string_view head, absl::string_view help, size_t indent, size_t width,
                     std::string* out) {
  if (head.size() + 1 > indent) {
    absl::StrAppend(out, head, "\n", std::string(indent, ' '));
  } else {
    absl::StrAppend(out, head, std::string(indent - head.size(), ' '));
  }
  size_t column = indent;
  for (absl::string_view chunk : absl::StrSplit(help, ' ', absl::SkipEmpty())) {
    const std::string word = absl::StrReplaceAll(chunk, {{"\x01", " "}});
    if (column > indent && column + 1 + word.size() > width) {
      absl::StrAppend(out, "\n", std::string(indent, ' '));
      column = indent;
    } else if (column > indent) {
      out->push_back(' ');
      ++column;
    }
    absl::StrAppend(out, word);
    column += word.size();
  }
  out->push_back('\n');
}

std::string MarkdownCell(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"|", "\\|"}, {"\n", " "}});
}

}  // namespace edgepass::text
