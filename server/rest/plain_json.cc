#include "server/rest/plain_json.h"

#include <array>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "edgepass/v1/playback.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"

namespace edgepass::server {
namespace {

namespace pb = google::protobuf;

// The printable ASCII characters protobuf's printer writes as themselves,
// asked of protobuf once, so the fast path can never escape differently.
const std::array<bool, 128>& Unescaped() {
  static const std::array<bool, 128> table = [] {
    std::array<bool, 128> t{};
    for (int c = 0x20; c < 0x7f; ++c) {
      v1::Cookie probe;
      probe.set_name(std::string(1, static_cast<char>(c)));
      std::string json;
      (void)pb::util::MessageToJsonString(probe, &json);
      t[c] = json == absl::StrCat("{\"name\":\"", std::string(1, static_cast<char>(c)), "\"}");
    }
    return t;
  }();
  return table;
}

// Unescaped() over every byte value, 1 or 0, for a branch-free scan.
const std::array<uint8_t, 256>& UnescapedBytes() {
  static const std::array<uint8_t, 256> table = [] {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 128; ++c) t[c] = Unescaped()[c] ? 1 : 0;
    return t;
  }();
  return table;
}

bool AppendString(const std::string& value, std::string* out) {
  // Replies are mostly long URLs and tokens: AND over every byte, no early
  // exit, so the loop runs without a branch per character.
  const std::array<uint8_t, 256>& plain = UnescapedBytes();
  uint8_t all = 1;
  for (char c : value) all &= plain[static_cast<unsigned char>(c)];
  if (all == 0) return false;
  out->push_back('"');
  out->append(value);
  out->push_back('"');
  return true;
}

bool AppendMessage(const pb::Message& message, std::string* out);

bool AppendTimestamp(const pb::Message& message, std::string* out) {
  const auto* ts = pb::DynamicCastToGenerated<pb::Timestamp>(&message);
  // Years 1970..9999, whole seconds: printed as protobuf does ("...Z", no fraction).
  if (ts == nullptr || ts->nanos() != 0 || ts->seconds() < 0 || ts->seconds() >= 253402300800) return false;
  // "%Y-%m-%dT%H:%M:%SZ" in UTC, written digit by digit (absl::FormatTime
  // costs a time zone lookup and a format parse per call).
  const absl::CivilSecond t = absl::ToCivilSecond(absl::FromUnixSeconds(ts->seconds()), absl::UTCTimeZone());
  char text[] = "\"0000-00-00T00:00:00Z\"";
  auto put = [&text](int at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10) text[at + i] = static_cast<char>('0' + value % 10);
  };
  put(1, t.year(), 4);
  put(6, t.month(), 2);
  put(9, t.day(), 2);
  put(12, t.hour(), 2);
  put(15, t.minute(), 2);
  put(18, t.second(), 2);
  out->append(text, sizeof(text) - 1);
  return true;
}

bool AppendValue(const pb::Message& message, const pb::FieldDescriptor* field, int index, std::string* out) {
  const pb::Reflection* r = message.GetReflection();
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      if (field->type() == pb::FieldDescriptor::TYPE_BYTES) return false;
      std::string scratch;
      const std::string& v = index < 0 ? r->GetStringReference(message, field, &scratch)
                                       : r->GetRepeatedStringReference(message, field, index, &scratch);
      return AppendString(v, out);
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      out->append((index < 0 ? r->GetBool(message, field) : r->GetRepeatedBool(message, field, index)) ? "true"
                                                                                                       : "false");
      return true;
    case pb::FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, index < 0 ? r->GetInt32(message, field) : r->GetRepeatedInt32(message, field, index));
      return true;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
      const pb::Message& m = index < 0 ? r->GetMessage(message, field) : r->GetRepeatedMessage(message, field, index);
      if (m.GetDescriptor() == pb::Timestamp::descriptor()) return AppendTimestamp(m, out);
      if (m.GetDescriptor()->file()->package() == "google.protobuf") return false;  // other well-known types
      return AppendMessage(m, out);
    }
    default:
      return false;
  }
}

bool AppendMessage(const pb::Message& message, std::string* out) {
  std::vector<const pb::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // set fields, by number
  out->push_back('{');
  bool first = true;
  for (const pb::FieldDescriptor* field : fields) {
    if (field->is_map() || field->containing_oneof() != nullptr) return false;
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, "\"", field->json_name(), "\":");
    if (!field->is_repeated()) {
      if (!AppendValue(message, field, -1, out)) return false;
      continue;
    }
    out->push_back('[');
    const int n = message.GetReflection()->FieldSize(message, field);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out->push_back(',');
      if (!AppendValue(message, field, i, out)) return false;
    }
    out->push_back(']');
  }
  out->push_back('}');
  return true;
}


// --- parsing ---

// A strict reader of the JSON shapes the fast parser takes: objects whose
// values are plain strings (printable ASCII, no escapes) or objects.
// Anything else makes it step aside (return false) before the caller's
// message is touched by a value it would read differently.
class PlainReader {
 public:
  explicit PlainReader(absl::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool Object(pb::Message* message, int depth) {
    if (depth > kMaxDepth || !Consume('{')) return false;
    const pb::Descriptor* type = message->GetDescriptor();
    const pb::Reflection* reflection = message->GetReflection();
    // Fields set so far: a key given twice (or by both its names) steps aside.
    uint64_t seen = 0;
    if (Consume('}')) return true;
    while (true) {
      absl::string_view key;
      if (!String(&key) || !Consume(':')) return false;
      const pb::FieldDescriptor* field = FieldOf(type, key);
      if (field == nullptr || field->is_repeated() || field->index() >= 64 ||
          field->containing_oneof() != nullptr || (seen >> field->index() & 1)) {
        return false;
      }
      seen |= uint64_t{1} << field->index();
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING &&
          field->type() == pb::FieldDescriptor::TYPE_STRING) {
        absl::string_view value;
        if (!String(&value)) return false;
        reflection->SetString(message, field, std::string(value));
      } else if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE &&
                 field->message_type()->file()->package() != "google.protobuf") {
        if (!Object(reflection->MutableMessage(message, field), depth + 1)) return false;
      } else {
        return false;  // numbers, bools, enums, bytes, well-known types
      }
      if (Consume('}')) return true;
      if (!Consume(',')) return false;
    }
  }

  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }

 private:
  static constexpr int kMaxDepth = 8;

  // By proto name or JSON name, as protobuf's parser accepts both.
  static const pb::FieldDescriptor* FieldOf(const pb::Descriptor* type, absl::string_view key) {
    for (int i = 0; i < type->field_count(); ++i) {
      const pb::FieldDescriptor* f = type->field(i);
      if (f->name() == key || f->json_name() == key) return f;
    }
    return nullptr;
  }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool Consume(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // A string of printable ASCII without escapes.
  bool String(absl::string_view* out) {
    if (!Consume('"')) return false;
    const char* start = p_;
    while (p_ != end_ && *p_ != '"') {
      const auto u = static_cast<unsigned char>(*p_);
      if (u < 0x20 || u >= 0x7f || u == '\\') return false;
      ++p_;
    }
    if (p_ == end_) return false;
    *out = absl::string_view(start, static_cast<size_t>(p_ - start));
    ++p_;
    return true;
  }

  const char* p_;
  const char* const end_;
};

}  // namespace

std::optional<std::string> PlainMessageToJson(const pb::Message& message) {
  std::string out;
  out.reserve(1024);
  if (!AppendMessage(message, &out)) return std::nullopt;
  return out;
}

bool PlainJsonToMessage(absl::string_view json, pb::Message* message) {
  PlainReader reader(json);
  return reader.Object(message, 0) && reader.AtEnd();
}

}  // namespace edgepass::server
