#include "server/app/rotation_schedule.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"

namespace edgepass::server {
namespace {

absl::Status CronError(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("rotation schedule: ", field, ": ", why));
}

bool ParseInt(absl::string_view s, int lo, int hi, int* out) {
  return s.size() <= 2 && absl::SimpleAtoi(s, out) && *out >= lo && *out <= hi;
}

// EventBridge counts Sunday as 1.
int EventBridgeWeekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::sunday: return 1;
    case absl::Weekday::monday: return 2;
    case absl::Weekday::tuesday: return 3;
    case absl::Weekday::wednesday: return 4;
    case absl::Weekday::thursday: return 5;
    case absl::Weekday::friday: return 6;
    case absl::Weekday::saturday: return 7;
  }
  return 0;
}

}  // namespace

absl::StatusOr<RotationSchedule> RotationSchedule::Every(absl::Duration interval) {
  if (interval <= absl::ZeroDuration()) return absl::InvalidArgumentError("rotation interval: must be positive");
  RotationSchedule s;
  s.kind_ = Kind::kInterval;
  s.interval_ = interval;
  return s;
}

absl::StatusOr<RotationSchedule> RotationSchedule::Parse(absl::string_view cron) {
  absl::string_view text = absl::StripAsciiWhitespace(cron);
  if (absl::ConsumePrefix(&text, "cron(") && !absl::ConsumeSuffix(&text, ")")) {
    return CronError("expression", "\"cron(\" without a closing \")\"");
  }
  std::vector<absl::string_view> f = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (f.size() != 6) {
    return CronError("expression", "want 6 fields \"MM HH ? * DAY *\" (minutes hours day-of-month month "
                                   "day-of-week year)");
  }
  RotationSchedule s;
  s.kind_ = Kind::kCron;
  if (!ParseInt(f[0], 0, 59, &s.minute_)) return CronError("minutes", "want 0 to 59");
  if (!ParseInt(f[1], 0, 23, &s.hour_)) return CronError("hours", "want 0 to 23");
  if (f[2] != "?") return CronError("day-of-month", "want \"?\" (days are chosen by day-of-week)");
  if (f[3] != "*") return CronError("month", "want \"*\"");
  if (f[5] != "*") return CronError("year", "want \"*\"");
  if (f[4] != "*") {
    std::vector<absl::string_view> day = absl::StrSplit(f[4], absl::MaxSplits('#', 1));
    if (!ParseInt(day[0], 1, 7, &s.weekday_)) {
      return CronError("day-of-week", "want *, D or D#W with D 1 to 7 (1 = Sunday)");
    }
    if (day.size() == 2 && !ParseInt(day[1], 1, 5, &s.occurrence_)) {
      return CronError("day-of-week", "the week W of D#W must be 1 to 5");
    }
  }
  return s;
}

absl::Time RotationSchedule::LatestAtOrBefore(absl::Time now) const {
  if (kind_ != Kind::kCron) return absl::InfinitePast();
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(now, utc);
  for (int back = 0; back <= 62; ++back) {
    const absl::CivilDay day = today - back;
    if (weekday_ != 0 && EventBridgeWeekday(day) != weekday_) continue;
    if (occurrence_ != 0 && (day.day() - 1) / 7 + 1 != occurrence_) continue;
    const absl::Time at =
        absl::FromCivil(absl::CivilMinute(day.year(), day.month(), day.day(), hour_, minute_), utc);
    if (at <= now) return at;
  }
  return absl::InfinitePast();
}

bool RotationSchedule::Due(absl::Time primary_created, absl::Time now) const {
  switch (kind_) {
    case Kind::kNever: return false;
    case Kind::kInterval: return now - primary_created >= interval_;
    case Kind::kCron: return LatestAtOrBefore(now) > primary_created;
  }
  return false;
}

std::string RotationSchedule::ToString() const {
  switch (kind_) {
    case Kind::kNever: return "on demand only";
    case Kind::kInterval: return absl::StrCat("every ", absl::FormatDuration(interval_));
    case Kind::kCron: {
      std::string day = weekday_ == 0 ? "*" : absl::StrCat(weekday_);
      if (occurrence_ != 0) absl::StrAppend(&day, "#", occurrence_);
      return absl::StrCat("cron(", minute_, " ", hour_, " ? * ", day, " *)");
    }
  }
  return "";
}

}  // namespace edgepass::server
