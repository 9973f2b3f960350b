#include "tests/integration/server_process.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>

#include <atomic>
#include <future>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace edgepass::testing {
namespace {

constexpr char kServerPath[] = EDGEPASS_SERVER_PATH;

// Each process logs to its own file, so a restart never reads an old
// "listening on" line.
int NextId() {
  static std::atomic<int> next{0};
  return next++;
}

}  // namespace

ServerProcess::ServerProcess(const std::string& work_dir, const std::string& data_dir,
                             std::vector<std::string> extra_args, std::vector<std::string> extra_env)
    : err_path_(absl::StrCat(work_dir, "/server", NextId(), ".err")) {
  std::vector<std::string> argv = {kServerPath, "--data-dir", data_dir, "--grpc-addr",
                                   "127.0.0.1:0", "--rest-addr", "127.0.0.1:0"};
  bool metrics_given = false;
  for (const std::string& arg : extra_args) metrics_given |= arg.rfind("--metrics-addr", 0) == 0;
  if (!metrics_given) {  // parallel tests: never the fixed default port
    argv.push_back("--metrics-addr");
    argv.push_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<ChildProcess>(argv, err_path_ + ".out", err_path_, extra_env);
}

::testing::AssertionResult ServerProcess::WaitUntilServing(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  static const std::regex kListening(
      R"re("event":"listening","grpc":"([0-9.]+:[0-9]+)","rest":"([^"]+)","metrics":"([^"]+)")re");
  while (address_.empty()) {
    std::smatch m;
    std::string log = ReadFileOrEmpty(err_path_);
    if (std::regex_search(log, m, kListening)) {
      address_ = m[1];
      rest_address_ = m[2];
      if (m[3] != "off") metrics_address_ = m[3];
      break;
    }
    if (!process_->Running()) return ::testing::AssertionFailure() << "server exited: " << log;
    if (absl::Now() > deadline) return ::testing::AssertionFailure() << "no listen line: " << log;
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (credentials_ == nullptr) credentials_ = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (!target_name_override_.empty()) args.SetSslTargetNameOverride(target_name_override_);
  channel_ = grpc::CreateCustomChannel(address_, credentials_, args);
  stub_ = v1::PlaybackService::NewStub(channel_);
  while (HealthStatus() != 1) {
    if (absl::Now() > deadline) return ::testing::AssertionFailure() << "health not SERVING";
    absl::SleepFor(absl::Milliseconds(50));
  }
  return ::testing::AssertionSuccess();
}

int ServerProcess::HealthStatus() {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  grpc::ByteBuffer request(nullptr, 0);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  if (!done.get_future().get().ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.size() == 2 && bytes[0] == 0x08) return bytes[1];
  return bytes.empty() ? 0 : -1;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return context;
}

NewApiKey MakeApiKey(const std::string& spec, const std::string& scratch_dir) {
  RunResult r = RunProcess({kServerPath, "--new-api-key", spec}, scratch_dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // "api key (shown once, ...):\n  KEY\naccess-file entry (...):\n  ENTRY\n"
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  NewApiKey key;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const std::string next(absl::StripAsciiWhitespace(lines[i + 1]));
    if (absl::StartsWith(lines[i], "api key")) key.key = next;
    if (absl::StartsWith(lines[i], "access-file entry")) key.entry_json = next;
  }
  EXPECT_FALSE(key.key.empty()) << r.out;
  EXPECT_FALSE(key.entry_json.empty()) << r.out;
  return key;
}

}  // namespace edgepass::testing
