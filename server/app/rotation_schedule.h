// When keys rotate by themselves: every fixed interval, or on SMD's schedule
// (an EventBridge cron expression in UTC of the forms SMD's installer writes:
// daily "MM HH ? * * *", weekly "MM HH ? * D *", monthly "MM HH ? * D#W *",
// D = 1..7 with 1 = Sunday as EventBridge counts, W = 1..5 the D-th weekday's
// occurrence in the month; "cron(...)" around it is accepted).
//
//   absl::StatusOr<RotationSchedule> s = RotationSchedule::Parse("0 3 ? * 2#1 *");  // first Monday, 03:00
//   bool due = s->Due(primary->created_at, absl::Now());
#ifndef EDGEPASS_SERVER_APP_ROTATION_SCHEDULE_H_
#define EDGEPASS_SERVER_APP_ROTATION_SCHEDULE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace edgepass::server {

class RotationSchedule {
 public:
  // Never due (rotation on demand only).
  RotationSchedule() = default;
  // Due once the primary key is `interval` old; INVALID_ARGUMENT when not
  // positive.
  static absl::StatusOr<RotationSchedule> Every(absl::Duration interval);
  // INVALID_ARGUMENT naming the field of the expression that is wrong.
  static absl::StatusOr<RotationSchedule> Parse(absl::string_view cron);

  // True when a rotation is due at `now` for a primary key created at
  // `primary_created`: the interval has passed, or a scheduled instant lies
  // in (primary_created, now]. Derived from the keyring alone, so every
  // replica agrees and a rotation already done by another is not repeated.
  bool Due(absl::Time primary_created, absl::Time now) const;

  // The latest scheduled instant at or before `now` (InfinitePast when none
  // within the last 62 days; interval schedules: InfinitePast).
  absl::Time LatestAtOrBefore(absl::Time now) const;

  bool enabled() const { return kind_ != Kind::kNever; }
  // e.g. "every 24h", "cron(0 3 ? * 2#1 *)", "on demand only".
  std::string ToString() const;

 private:
  enum class Kind { kNever, kInterval, kCron };
  Kind kind_ = Kind::kNever;
  absl::Duration interval_;
  int minute_ = 0, hour_ = 0;
  int weekday_ = 0;     // 1..7 (1 = Sunday); 0: every day
  int occurrence_ = 0;  // 1..5; 0: every week
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_ROTATION_SCHEDULE_H_
