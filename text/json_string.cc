#include "text/json_string.h"

#include <array>
#include <cstdint>

namespace edgepass::text {
namespace {

// Bjoern Hoehrmann's UTF-8 decoder (MIT licence), table and steps as
// nlohmann/json 3.11 uses them in its serializer, so invalid input is cut
// into the same sequences and replaced at the same places.
constexpr uint8_t kAccept = 0;
constexpr uint8_t kReject = 1;

// clang-format off
constexpr std::array<uint8_t, 400> kUtf8d = {{
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 00..1F
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 20..3F
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 40..5F
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 60..7F
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,  // 80..9F
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  // A0..BF
    8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,  // C0..DF
    0xA, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x4, 0x3, 0x3,                  // E0..EF
    0xB, 0x6, 0x6, 0x6, 0x5, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8,                  // F0..FF
    0x0, 0x1, 0x2, 0x3, 0x5, 0x8, 0x7, 0x1, 0x1, 0x1, 0x4, 0x6, 0x1, 0x1, 0x1, 0x1,                  // s0..s0
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1,  // s1..s2
    1, 2, 1, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1,  // s3..s4
    1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 3, 1, 1, 1, 1, 1, 1,  // s5..s6
    1, 3, 1, 1, 1, 1, 1, 3, 1, 3, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  // s7..s8
}};
// clang-format on

uint8_t Decode(uint8_t* state, uint32_t* codepoint, uint8_t byte) {
  const uint8_t type = kUtf8d[byte];
  *codepoint = *state != kAccept ? (byte & 0x3fu) | (*codepoint << 6u)
                                 : (0xffu >> type) & byte;
  *state = kUtf8d[256u + *state * 16u + type];
  return *state;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

bool IsPlain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// From s[start] on, where a code point starts: the decoder's walk.
void AppendEscaped(absl::string_view s, size_t start, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint32_t codepoint = 0;
  uint8_t state = kAccept;
  size_t size_at_accept =
      out->size();     // output up to the last whole code point
  size_t pending = 0;  // bytes of an unfinished code point
  for (size_t i = start; i < s.size(); ++i) {
    const auto byte = static_cast<uint8_t>(s[i]);
    switch (Decode(&state, &codepoint, byte)) {
      case kAccept:
        switch (codepoint) {
          case '\b':
            out->append("\\b");
            break;
          case '\t':
            out->append("\\t");
            break;
          case '\n':
            out->append("\\n");
            break;
          case '\f':
            out->append("\\f");
            break;
          case '\r':
            out->append("\\r");
            break;
          case '"':
            out->append("\\\"");
            break;
          case '\\':
            out->append("\\\\");
            break;
          default:
            if (codepoint <= 0x1f) {
              const char escape[] = {'\\',
                                     'u',
                                     '0',
                                     '0',
                                     kHex[codepoint >> 4],
                                     kHex[codepoint & 15]};
              out->append(escape, sizeof(escape));
            } else {
              out->push_back(
                  s[i]);  // the last byte; earlier ones are out already
            }
        }
        size_at_accept = out->size();
        pending = 0;
        break;
      case kReject:
        // The byte that broke a sequence is read again on its own.
        if (pending > 0) --i;
        out->resize(size_at_accept);
        out->append(kReplacement);
        size_at_accept = out->size();
        pending = 0;
        state = kAccept;
        break;
      default:
        out->push_back(s[i]);
        ++pending;
        break;
    }
  }
  if (state != kAccept) {  // the text ends inside a code point
    out->resize(size_at_accept);
    out->append(kReplacement);
  }
}

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  size_t plain = 0;
  while (plain < s.size() && IsPlain(static_cast<unsigned char>(s[plain])))
    ++plain;
  out->append(s.data(), plain);
  if (plain < s.size()) AppendEscaped(s, plain, out);
  out->push_back('"');
}

void AppendJsonStringList(const std::vector<std::string>& list,
                          std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(list[i], out);
  }
  out->push_back(']');
}

bool IsValidUtf8(absl::string_view s) {
  uint32_t codepoint = 0;
  uint8_t state = kAccept;
  for (char c : s) {
    if (state == kAccept && static_cast<unsigned char>(c) < 0x80) continue;
    if (Decode(&state, &codepoint, static_cast<uint8_t>(c)) == kReject) return false;
  }
  return state == kAccept;
}

std::string JsonString(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(s, &out);
  return out;
}

}  // namespace edgepass::text
