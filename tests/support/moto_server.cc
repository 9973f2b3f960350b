#include "tests/support/moto_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace edgepass::testing {
namespace {

// IAM setup and moto's auth switch, run with the python that runs moto.
constexpr char kSetupScript[] = R"PY(
import json, sys, urllib.request
import boto3
endpoint, what, name = sys.argv[1], sys.argv[2], sys.argv[3]

def reset_auth(count):
    urllib.request.urlopen(urllib.request.Request(
        endpoint + "/moto-api/reset-auth", data=str(count).encode(), method="POST",
        headers={"Content-Type": "application/octet-stream"})).read()

if what == "allow":
    reset_auth(int(name)); print("{}"); sys.exit(0)
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
allow_all = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
reset_auth(1000)
try:
    if what == "user":
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=allow_all)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
    else:
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Federated": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}]})
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName=name, PolicyName="all", PolicyDocument=allow_all)
        print(json.dumps({"arn": role["Arn"]}))
finally:
    reset_auth(0)
)PY";

bool Answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

std::string OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// The value after "key": "..." in one-line JSON from the setup script.
std::string JsonField(const std::string& json, const std::string& key) {
  std::string marker = absl::StrCat("\"", key, "\": \"");
  size_t start = json.find(marker);
  if (start == std::string::npos) return "";
  start += marker.size();
  return json.substr(start, json.find('"', start) - start);
}

}  // namespace

std::string MotoPython() {
  static const std::string found = [] {
    std::vector<std::string> candidates;
    const char* venv = std::getenv("EDGEPASS_MOTO_VENV");
    candidates.push_back(absl::StrCat(venv != nullptr ? venv : "/opt/edgepass-moto", "/bin/python3"));
    candidates.push_back(OnPath("python3"));
    TempDir scratch;
    for (const std::string& python : candidates) {
      if (python.empty() || ::access(python.c_str(), X_OK) != 0) continue;
      if (RunProcess({python, "-c", "import moto.server, boto3"}, scratch.path()).exit_code == 0) {
        return python;
      }
    }
    return std::string();
  }();
  return found;
}

MotoServer::MotoServer() : port_(FreeLoopbackPort()), python_(MotoPython()) {}

MotoServer::~MotoServer() { Stop(); }

std::string MotoServer::log() const { return ReadFileOrEmpty(dir() + "/moto.err"); }

::testing::AssertionResult MotoServer::Start(absl::Duration timeout) {
  if (process_ != nullptr) return ::testing::AssertionSuccess();
  if (python_.empty()) return ::testing::AssertionFailure() << "no python3 with moto[server]";
  if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/env", "INITIAL_NO_AUTH_ACTION_COUNT=0", python_, "-m",
                               "moto.server", "-H", "127.0.0.1", "-p", std::to_string(port_)},
      dir() + "/moto.out", dir() + "/moto.err");
  const absl::Time deadline = absl::Now() + timeout;
  while (!Answers(port_)) {
    if (!process_->Running()) {
      process_.reset();
      return ::testing::AssertionFailure() << "moto server exited: " << log();
    }
    if (absl::Now() > deadline) {
      process_.reset();
      return ::testing::AssertionFailure() << "moto server did not listen: " << log();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return ::testing::AssertionSuccess();
}

void MotoServer::Stop() { process_.reset(); }

RunResult MotoServer::Python(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {python_, "-c", kSetupScript, endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, dir(), absl::Seconds(60));
}

absl::StatusOr<MotoServer::AccessKey> MotoServer::CreateUser(const std::string& name) {
  RunResult r = Python({"user", name});
  AccessKey key{JsonField(r.out, "id"), JsonField(r.out, "secret")};
  if (r.exit_code != 0 || key.access_key_id.empty()) {
    return absl::InternalError(absl::StrCat("moto IAM setup failed: ", r.err));
  }
  return key;
}

absl::StatusOr<std::string> MotoServer::CreateRole(const std::string& name) {
  RunResult r = Python({"role", name});
  std::string arn = JsonField(r.out, "arn");
  if (r.exit_code != 0 || arn.empty()) {
    return absl::InternalError(absl::StrCat("moto IAM setup failed: ", r.err));
  }
  return arn;
}

::testing::AssertionResult MotoServer::AllowUnauthenticated(int count) {
  RunResult r = Python({"allow", std::to_string(count)});
  if (r.exit_code != 0) return ::testing::AssertionFailure() << r.err;
  return ::testing::AssertionSuccess();
}

}  // namespace edgepass::testing
