// `edgepass issue`: asks the running service for a playback URL through the
// SDK.
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/cli_util.h"
#include "client/cli/client_flags.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/lib/playback_client.h"
#include "google/protobuf/util/json_util.h"

namespace edgepass::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"server"},
    {"ip"},
    {"country"},
    {"region"},
    {"city"},
    {"session-id"},
    {"header", FlagKind::kRepeated},
    {"query", FlagKind::kRepeated},
    {"json", FlagKind::kSwitch},
    EDGEPASS_CLIENT_FLAG_SPECS,
};

int UsageError(CliEnv& env, absl::string_view message) {
  env.err << "edgepass issue: " << message << "\n"
          << "Run 'edgepass --help' for usage.\n";
  return kExitUsage;
}

}  // namespace

int RunIssue(absl::Span<const std::string> args, CliEnv& env) {
  absl::StatusOr<ParsedFlags> flags = ParseFlags(args, kFlags);
  if (!flags.ok()) return UsageError(env, flags.status().message());
  if (flags->help()) {
    env.out << MainUsage();
    return kExitOk;
  }
  if (flags->positional().size() != 1) {
    return UsageError(env, flags->positional().empty()
                               ? "missing ASSET_ID"
                               : absl::StrCat("unexpected argument '",
                                              flags->positional()[1], "'"));
  }
  const std::string* server = flags->Get("server");
  if (server == nullptr)
    return UsageError(env, "missing required flag --server");

  absl::StatusOr<client::ClientOptions> options = ClientOptionsFromFlags(*flags, env, "--server", *server);
  if (!options.ok()) return UsageError(env, options.status().message());

  edgepass::v1::IssuePlaybackRequest request;
  request.set_asset_id(flags->positional()[0]);
  edgepass::v1::Viewer& viewer = *request.mutable_viewer();
  if (const std::string* v = flags->Get("ip")) viewer.set_ip(*v);
  if (const std::string* v = flags->Get("country")) viewer.set_country(*v);
  if (const std::string* v = flags->Get("region")) viewer.set_region(*v);
  if (const std::string* v = flags->Get("city")) viewer.set_city(*v);
  if (const std::string* v = flags->Get("session-id"))
    viewer.set_session_id(*v);
  for (const std::string& arg : flags->All("header")) {
    auto nv = SplitNameValue("header", arg);
    if (!nv.ok()) return UsageError(env, nv.status().message());
    (*viewer.mutable_headers())[nv->first] = nv->second;
  }
  for (const std::string& arg : flags->All("query")) {
    auto nv = SplitNameValue("query", arg);
    if (!nv.ok()) return UsageError(env, nv.status().message());
    (*viewer.mutable_query())[nv->first] = nv->second;
  }

  client::PlaybackClient client(*std::move(options));
  absl::StatusOr<edgepass::v1::IssuePlaybackResponse> response =
      client.IssuePlayback(request);
  if (!response.ok()) return ReportFailedCall("issue", response.status(), env.err);
  if (!flags->Has("json")) {
    env.out << response->playback_url() << "\n";
    return kExitOk;
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  if (auto s =
          google::protobuf::util::MessageToJsonString(*response, &json, print);
      !s.ok()) {
    env.err << "edgepass issue: cannot print response as JSON: " << s.ToString()
            << "\n";
    return kExitDenied;
  }
  env.out << json << "\n";
  return kExitOk;
}

}  // namespace edgepass::cli
