// Text for people from option declarations, shared by edgepass-server's and
// the validator sidecar's option tables: one entry of a --help text, and a
// Markdown table cell for the generated docs tables.
//
//   AppendHelpEntry("  --grpc-addr HOST:PORT", "listen here (default\x01127.0.0.1:50051)", 29, 80, &out);
//   row += MarkdownCell(help);
#ifndef EDGEPASS_TEXT_HELP_TEXT_H_
#define EDGEPASS_TEXT_HELP_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace edgepass::text {

// Appends `head`, then `help` from column `indent` (on the next line when
// `head` reaches that column), wrapped at `width` columns with later lines
// indented by `indent`, then a newline. Words joined by '\x01' stay on one
// line (it becomes a space).
void AppendHelpEntry(absl::string_view head, absl::string_view help, size_t indent, size_t width,
                     std::string* out);

// `text` for a Markdown table cell: '|' escaped, newlines as spaces.
std::string MarkdownCell(absl::string_view text);

}  // namespace edgepass::text

#endif  // EDGEPASS_TEXT_HELP_TEXT_H_
