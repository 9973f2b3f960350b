// `edgepass keys status|rotate|revoke` and `edgepass cloudfront-key put`:
// the signing keys and CloudFront keys over KeyService. No key value is ever
// printed (the service never returns one).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/cli/cli_util.h"
#include "client/cli/commands.h"
#include "client/cli/operator_command.h"
#include "client/cli/operator_output.h"
#include "client/lib/key_client.h"
#include "files/unique_fd.h"
#include "google/protobuf/util/time_util.h"

namespace edgepass::cli {
namespace {

void PrintStatus(std::ostream& out, const v1::KeyStatus& status) {
  Table table({"KEY_ID", "STATE", "CREATED", "NOT_AFTER"});
  for (const v1::SigningKeyInfo& k : status.keys()) {
    table.AddRow(
        {k.id(), absl::StrCat(v1::KeyState_Name(k.state()), k.foreign() ? " (foreign)" : ""),
         FormatTimestamp(k.created_at()), FormatTimestamp(k.not_after())});
  }
  table.Print(out);
  const v1::RotationStatus& r = status.rotation();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"rotation", r.in_progress() ? "in progress" : "idle"},
      {"schedule", r.schedule().empty() ? "-" : r.schedule()},
      {"last outcome", r.last_outcome().empty() ? "-" : r.last_outcome()},
      {"last attempt", FormatTimestamp(r.last_attempt())},
      {"last success", FormatTimestamp(r.last_success())},
  };
  if (!r.last_message().empty()) fields.push_back({"last message", r.last_message()});
  if (r.stalled()) {
    fields.push_back({"stalled; unacknowledged", absl::StrJoin(r.unacknowledged_validators(), ",")});
  }
  out << "\n";
  PrintFields(out, fields);
}

int RunStatus(const OperatorArgs& args, CliEnv& env) {
  client::KeyClient keys(args.options);
  absl::StatusOr<v1::KeyStatus> status = keys.GetKeyStatus();
  if (!status.ok()) return ReportCallError(args, env, status.status());
  if (args.json) return PrintJson(args, env, *status);
  PrintStatus(env.out, *status);
  return kExitOk;
}

int RunRotate(const OperatorArgs& args, CliEnv& env) {
  client::KeyClient keys(args.options);
  absl::StatusOr<v1::RotateKeysResponse> rotated = keys.RotateKeys();
  if (!rotated.ok()) return ReportCallError(args, env, rotated.status());
  if (args.json) return PrintJson(args, env, *rotated);
  env.out << (rotated->resumed() ? "finished an interrupted rotation" : "rotated") << ": primary "
          << rotated->new_primary() << " (was " << rotated->previous_primary() << "), acknowledged by "
          << rotated->validators() << " validator(s) in "
          << google::protobuf::util::TimeUtil::ToString(rotated->acknowledgement_wait()) << "\n\n";
  PrintStatus(env.out, rotated->status());
  return kExitOk;
}

int RunRevoke(const OperatorArgs& args, CliEnv& env) {
  if (!args.flags.Has("confirm-tokens-refused")) {
    return ReportUsageError(args.command, env,
                            "every token the key signed is refused at once: give --confirm-tokens-refused");
  }
  client::KeyClient keys(args.options);
  absl::StatusOr<v1::KeyStatus> status = keys.RevokeKey(args.positional()[0]);
  if (!status.ok()) return ReportCallError(args, env, status.status());
  if (args.json) return PrintJson(args, env, *status);
  env.out << "revoked key " << args.positional()[0] << "; tokens it signed are refused\n\n";
  PrintStatus(env.out, *status);
  return kExitOk;
}

constexpr size_t kMaxPrivateKeyBytes = 64 << 10;

// The PEM of --private-key-file, which only its owner may read (as an API key
// file, and as ssh insists for private keys); INVALID_ARGUMENT naming the
// flag and the file otherwise. Checked on the descriptor read.
absl::StatusOr<std::string> ReadPrivateKeyFile(const std::string& path) {
  const std::string what = absl::StrCat("--private-key-file '", path, "'");
  files::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  struct stat st;
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(what, ": not a regular file"));
  if ((st.st_mode & 077) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: accessible by group or others (mode %04o); restrict it: chmod 600 '%s'", what, st.st_mode & 07777, path));
  }
  std::string pem;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InvalidArgumentError(absl::StrCat(what, ": ", std::strerror(errno)));
    if (n == 0) return pem;
    pem.append(buffer, static_cast<size_t>(n));
    if (pem.size() > kMaxPrivateKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": larger than ", kMaxPrivateKeyBytes, " bytes"));
    }
  }
}

int RunCloudFrontPut(const OperatorArgs& args, CliEnv& env) {
  const std::string* file = args.flags.Get("private-key-file");
  if (file == nullptr) return ReportUsageError(args.command, env, "missing required flag --private-key-file");
  absl::StatusOr<std::string> pem = ReadPrivateKeyFile(*file);
  if (!pem.ok()) return ReportUsageError(args.command, env, pem.status().message());
  v1::PutCloudFrontKeyRequest request;
  request.set_key_pair_id(args.positional()[0]);
  request.set_private_key_pem(*std::move(pem));
  client::KeyClient keys(args.options);
  absl::StatusOr<v1::CloudFrontKey> stored = keys.PutCloudFrontKey(request);
  request.mutable_private_key_pem()->assign(request.private_key_pem().size(), '\0');
  if (!stored.ok()) return ReportCallError(args, env, stored.status());
  if (args.json) return PrintJson(args, env, *stored);
  env.out << "stored CloudFront key " << stored->key_pair_id() << "; its public key:\n" << stored->public_key_pem();
  return kExitOk;
}

constexpr FlagSpec kFlags[] = {EDGEPASS_OPERATOR_FLAG_SPECS};
constexpr FlagSpec kRevokeFlags[] = {{"confirm-tokens-refused", FlagKind::kSwitch}, EDGEPASS_OPERATOR_FLAG_SPECS};
constexpr FlagSpec kCloudFrontFlags[] = {{"private-key-file"}, EDGEPASS_OPERATOR_FLAG_SPECS};

const OperatorSubcommand kKeySubcommands[] = {
    {"status", "",
     R"(    The signing keys' ids, states and dates (never their values) and how the
    replica's last rotation went. --json: edgepass.v1.KeyStatus.
)",
     kFlags, 0, 0, RunStatus},
    {"rotate", "",
     R"(    Rotates now, or finishes an interrupted rotation: a new key is sent to
    every validator and promoted once every live one acknowledged it. Waits
    for the end (default --deadline 60s). ABORTED while another replica
    rotates; DEADLINE_EXCEEDED naming the validators that did not acknowledge.
    --json: edgepass.v1.RotateKeysResponse.
)",
     kFlags, 0, 0, RunRotate, absl::Seconds(60)},
    {"revoke", "KEY_ID --confirm-tokens-refused",
     R"(    Emergency: removes a compromised signing key at once. Every token it
    signed is refused from then on, so the flag must confirm it; a revoked
    primary is replaced at once. NOT_FOUND for an unknown key.
    --json: edgepass.v1.KeyStatus after the removal.
)",
     kRevokeFlags, 1, 1, RunRevoke},
};

const OperatorSubcommand kCloudFrontSubcommands[] = {
    {"put", "KEY_PAIR_ID --private-key-file FILE",
     R"(    Stores the CloudFront private key (unencrypted RSA PEM, 2048-4096 bits)
    that assets of the cloudfront-url/-cookie schemes name; prints the public
    half to register in CloudFront (--json: edgepass.v1.CloudFrontKey). The
    file must be private (chmod 600), as an API key file.
)",
     kCloudFrontFlags, 1, 1, RunCloudFrontPut},
};

}  // namespace

int RunKeys(absl::Span<const std::string> args, CliEnv& env) {
  return RunOperatorGroup({"keys", "token signing keys (KeyService)", kKeySubcommands}, args, env);
}

int RunCloudFrontKey(absl::Span<const std::string> args, CliEnv& env) {
  return RunOperatorGroup({"cloudfront-key", "CloudFront private keys (KeyService)", kCloudFrontSubcommands}, args,
                          env);
}

}  // namespace edgepass::cli
