// Small text helpers the log parsers share: percent-decoding, UTF-8 checks,
// W3C date/time parsing and the session id rule. Pure functions, no
// allocation except into the caller's buffer.
//
//   std::string scratch;
//   absl::string_view uri = PercentDecode("/a%20b", &scratch);   // "/a b"
//   absl::string_view id = SessionIdFromUri("/abc.h.p.s/seg.ts"); // "abc"
#ifndef EDGEPASS_CLIENT_ANALYZE_LOG_TEXT_H_
#define EDGEPASS_CLIENT_ANALYZE_LOG_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace edgepass::analyze {

// `text` with each %XX (hex) replaced by its byte; a '%' not followed by two
// hex digits stays as is. Returns `text` itself when it has no '%', else a
// view of *scratch.
absl::string_view PercentDecode(absl::string_view text, std::string* scratch);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code
// points past U+10FFFF).
bool IsValidUtf8(absl::string_view text);

// "YYYY-MM-DD" → days since 1970-01-01; nullopt when malformed or out of
// range (years 1970..9999, real calendar days).
std::optional<int64_t> ParseW3cDate(absl::string_view date);
// Days from 1970-01-01 to year-month-day (proleptic Gregorian; m 1..12).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// "HH:MM:SS" (optionally ".fff") → milliseconds since midnight; nullopt when
// malformed.
std::optional<int64_t> ParseW3cTime(absl::string_view time);

// Decimal digits only, at most 19 of them; nullopt otherwise.
std::optional<uint64_t> ParseUnsigned(absl::string_view text);

// Unix seconds with up to three decimals ("1767225600.123") → milliseconds;
// nullopt otherwise.
std::optional<int64_t> ParseEpochSecondsMs(absl::string_view text);

// The session id SMD's query derives from a request URI: the text between the
// first and the second '/' split at '.', when that gives exactly four parts,
// is the first part (which may be empty, as in SMD). Empty optional otherwise.
std::optional<absl::string_view> SessionIdFromUri(absl::string_view uri);

}  // namespace edgepass::analyze

#endif  // EDGEPASS_CLIENT_ANALYZE_LOG_TEXT_H_
