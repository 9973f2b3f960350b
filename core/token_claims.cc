#include "core/token_claims.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/json_internal.h"

namespace edgepass::core::internal {
namespace {

constexpr std::array<absl::string_view, kClaimCount> kClaimNames = {
    "exp", "nbf", "iat", "paths",        "exc", "ip",      "ip_ver", "co",
    "co_fallback", "cty", "reg", "reg_fallback", "ssn", "headers", "qs", "intsig"};

// Distinct keys the scanner tracks besides the claims (e.g. "sub", "aud")
// before it hands the payload to the full parser.
constexpr size_t kMaxOtherKeys = 16;
// Longest integer the scanner converts: 18 digits cannot overflow int64.
constexpr size_t kMaxIntegerDigits = 18;

int ClaimIndex(absl::string_view key) {
  if (key.empty()) return -1;
  for (size_t i = 0; i < kClaimNames.size(); ++i) {
    const absl::string_view name = kClaimNames[i];
    if (name.size() == key.size() && name[0] == key[0] && name == key) return static_cast<int>(i);
  }
  return -1;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A cursor over the payload; each Scan* starts at the first character of its
// production and leaves the cursor just past it.
class Cursor {
 public:
  explicit Cursor(absl::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool AtEnd() const { return p_ == end_; }
  // The current character; '\0' at the end (a NUL in the text is never valid
  // where this is asked, so the two need not be told apart).
  char Peek() const { return p_ < end_ ? *p_ : '\0'; }
  bool Consume(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  // At '"': a string without escapes, ASCII only.
  ScanResult String(absl::string_view* out) {
    const char* start = ++p_;
    while (p_ < end_) {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        *out = absl::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return ScanResult::kParsed;
      }
      if (c == '\\' || c >= 0x80) return ScanResult::kUnsupported;  // escapes, UTF-8
      if (c < 0x20) return ScanResult::kInvalid;  // control characters must be escaped
      ++p_;
    }
    return ScanResult::kInvalid;  // unterminated
  }

  // At '-' or a digit: an integer of at most kMaxIntegerDigits digits.
  ScanResult Integer(int64_t* out) {
    const bool negative = Consume('-');
    const char* digits = p_;
    if (!IsDigit(Peek())) return ScanResult::kInvalid;
    if (!Consume('0')) {
      while (IsDigit(Peek())) ++p_;
    }
    const char next = Peek();
    if (next == '.' || next == 'e' || next == 'E') return ScanResult::kUnsupported;
    if (IsDigit(next)) return ScanResult::kInvalid;  // a leading zero
    const size_t count = static_cast<size_t>(p_ - digits);
    if (count > kMaxIntegerDigits) return ScanResult::kUnsupported;
    int64_t value = 0;
    for (const char* d = digits; d < p_; ++d) value = value * 10 + (*d - '0');
    *out = negative ? -value : value;
    return ScanResult::kParsed;
  }

  // At 't', 'f' or 'n': true, false or null.
  ScanResult Literal(absl::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return ScanResult::kInvalid;
    }
    p_ += word.size();
    return ScanResult::kParsed;
  }

 private:
  const char* p_;
  const char* end_;
};

// Returns from the enclosing scan unless `expr` parsed.
#define EDGEPASS_SCAN(expr)                                   \
  do {                                                        \
    const ScanResult edgepass_scan_result = (expr);           \
    if (edgepass_scan_result != ScanResult::kParsed) return edgepass_scan_result; \
  } while (0)

}  // namespace

absl::string_view ClaimName(Claim claim) { return kClaimNames[static_cast<size_t>(claim)]; }

struct TokenClaims::FullParse {
  Json document;
};

TokenClaims::TokenClaims() = default;
TokenClaims::~TokenClaims() = default;

void TokenClaims::Reset() {
  values_.fill(Value());
  items_.clear();
  full_.reset();
}

absl::Span<const absl::string_view> TokenClaims::list(Claim c) const {
  const Value& v = values_[Index(c)];
  if (v.type != ClaimType::kStringList) return {};
  return absl::MakeConstSpan(items_.data() + v.list_begin, v.list_size);
}

bool TokenClaims::Parse(absl::string_view json) {
  switch (Scan(json)) {
    case ScanResult::kParsed: return true;
    case ScanResult::kDuplicateKey:
    case ScanResult::kInvalid: return false;
    case ScanResult::kUnsupported: break;
  }
  return ParseWithFullParser(json);
}

ScanResult TokenClaims::Scan(absl::string_view json) {
  Reset();
  Cursor in(json);
  uint32_t seen_claims = 0;
  absl::string_view other_keys[kMaxOtherKeys];
  size_t other_count = 0;

  in.SkipSpace();
  if (in.Peek() != '{') {
    // A byte-order mark is skipped by the full parser; anything else is not an object.
    return static_cast<unsigned char>(in.Peek()) >= 0x80 ? ScanResult::kUnsupported
                                                          : ScanResult::kInvalid;
  }
  in.Consume('{');
  in.SkipSpace();
  if (!in.Consume('}')) {
    while (true) {
      // Key.
      if (in.Peek() != '"') return ScanResult::kInvalid;
      absl::string_view key;
      EDGEPASS_SCAN(in.String(&key));
      Value* value = nullptr;
      if (const int claim = ClaimIndex(key); claim >= 0) {
        if (seen_claims & (1u << claim)) return ScanResult::kDuplicateKey;
        seen_claims |= 1u << claim;
        value = &values_[static_cast<size_t>(claim)];
      } else {
        for (size_t i = 0; i < other_count; ++i) {
          if (other_keys[i] == key) return ScanResult::kDuplicateKey;
        }
        if (other_count == kMaxOtherKeys) return ScanResult::kUnsupported;
        other_keys[other_count++] = key;
      }
      in.SkipSpace();
      if (!in.Consume(':')) return ScanResult::kInvalid;
      in.SkipSpace();

      // Value; `value` is nullptr for keys the validator does not read.
      Value scratch;
      Value& v = value != nullptr ? *value : scratch;
      switch (in.Peek()) {
        case '"':
          v.type = ClaimType::kString;
          EDGEPASS_SCAN(in.String(&v.text));
          break;
        case 't':
        case 'f':
          v.type = ClaimType::kBool;
          v.boolean = in.Peek() == 't';
          EDGEPASS_SCAN(in.Literal(v.boolean ? "true" : "false"));
          break;
        case 'n':
          v.type = ClaimType::kNull;
          EDGEPASS_SCAN(in.Literal("null"));
          break;
        case '[': {
          in.Consume('[');
          in.SkipSpace();
          v.type = ClaimType::kStringList;
          v.list_begin = static_cast<uint32_t>(items_.size());
          if (!in.Consume(']')) {
            while (true) {
              // Other element types make a kOther claim: the full parser's job.
              if (in.Peek() != '"') return ScanResult::kUnsupported;
              absl::string_view item;
              EDGEPASS_SCAN(in.String(&item));
              if (value != nullptr) items_.push_back(item);
              in.SkipSpace();
              if (in.Consume(']')) break;
              if (!in.Consume(',')) return ScanResult::kInvalid;
              in.SkipSpace();
            }
          }
          v.list_size = static_cast<uint32_t>(items_.size()) - v.list_begin;
          break;
        }
        case '{':
          return ScanResult::kUnsupported;  // nested objects
        default:
          if (in.Peek() != '-' && !IsDigit(in.Peek())) {
            return static_cast<unsigned char>(in.Peek()) >= 0x80 ? ScanResult::kUnsupported
                                                                  : ScanResult::kInvalid;
          }
          v.type = ClaimType::kInteger;
          EDGEPASS_SCAN(in.Integer(&v.integer));
          break;
      }
      in.SkipSpace();
      if (in.Consume('}')) break;
      if (!in.Consume(',')) return ScanResult::kInvalid;
      in.SkipSpace();
    }
  }
  in.SkipSpace();
  return in.AtEnd() ? ScanResult::kParsed : ScanResult::kInvalid;
}

#undef EDGEPASS_SCAN

bool TokenClaims::ParseWithFullParser(absl::string_view json) {
  Reset();
  full_ = std::make_unique<FullParse>();
  Json& doc = full_->document;
  if (!ParseStrictJson(json, &doc) || !doc.is_object()) return false;
  for (size_t i = 0; i < kClaimCount; ++i) {
    auto it = doc.find(kClaimNames[i]);
    if (it == doc.end()) continue;
    Value& v = values_[i];
    if (it->is_null()) {
      v.type = ClaimType::kNull;
    } else if (it->is_boolean()) {
      v.type = ClaimType::kBool;
      v.boolean = it->get<bool>();
    } else if (it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX) {
      v.type = ClaimType::kOther;  // would wrap negative as int64
    } else if (it->is_number_integer()) {
      v.type = ClaimType::kInteger;
      v.integer = it->get<int64_t>();
    } else if (it->is_string()) {
      v.type = ClaimType::kString;
      v.text = it->get_ref<const std::string&>();
    } else if (it->is_array() &&
               std::all_of(it->begin(), it->end(), [](const Json& e) { return e.is_string(); })) {
      v.type = ClaimType::kStringList;
      v.list_begin = static_cast<uint32_t>(items_.size());
      for (const Json& e : *it) items_.push_back(e.get_ref<const std::string&>());
      v.list_size = static_cast<uint32_t>(items_.size()) - v.list_begin;
    } else {
      v.type = ClaimType::kOther;
    }
  }
  return true;
}

}  // namespace edgepass::core::internal
