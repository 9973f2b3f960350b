#include "tests/e2e/edge_stack.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/random.h"
#include "core/status_macros.h"

namespace edgepass::testing {
namespace {

constexpr char kValidatorPath[] = EDGEPASS_VALIDATOR_PATH;
constexpr char kNginxConf[] = EDGEPASS_NGINX_CONF;
constexpr char kNginxPath[] = EDGEPASS_NGINX_PATH;
constexpr char kNginxModuleConf[] = EDGEPASS_NGINX_MODULE_CONF;
constexpr char kNginxModulePath[] = EDGEPASS_NGINX_MODULE_PATH;
constexpr char kNginxModuleTestPath[] = EDGEPASS_NGINX_MODULE_TEST_PATH;

// Sidecar port -> the module state file it publishes (ModuleMode()).
absl::Mutex module_states_mu;
std::map<uint16_t, std::string>& ModuleStates() {
  static auto* states = new std::map<uint16_t, std::string>;
  return *states;
}

// Sidecar port -> its --cloudfront-public-keys file (ModuleMode()), which the
// module then reads too. Guarded by module_states_mu.
std::map<uint16_t, std::string>& CloudFrontKeys() {
  static auto* keys = new std::map<uint16_t, std::string>;
  return *keys;
}

}  // namespace

bool ModuleMode() {
  const char* mode = std::getenv("EDGEPASS_E2E_NGINX");
  return mode != nullptr && std::string(mode) == "module";
}

std::string NginxModulePath() { return kNginxModulePath; }
std::string NginxModuleTestPath() { return kNginxModuleTestPath; }

bool SettlesAt(int want, const std::function<int()>& status, absl::Duration timeout, absl::Duration hold) {
  const absl::Time deadline = absl::Now() + timeout;
  std::optional<absl::Time> since;
  while (absl::Now() < deadline) {
    if (status() != want) {
      since.reset();
    } else if (!since) {
      since = absl::Now();
    } else if (absl::Now() - *since >= hold) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

std::string RandomBytes(size_t n) {
  core::SecureRandom random;
  std::string out(n, '\0');
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), n));
  return out;
}

Sidecar::Sidecar(const std::string& dir, std::vector<std::string> args, std::vector<std::string> extra_env) {
  static int count = 0;
  err_path_ = absl::StrCat(dir, "/sidecar", ++count, ".err");
  std::vector<std::string> argv = {kValidatorPath};
  bool metrics_given = false;
  for (const std::string& arg : args) metrics_given |= absl::StartsWith(arg, "--metrics-addr");
  if (!metrics_given) {  // parallel tests: never the fixed default port
    argv.push_back("--metrics-addr");
    argv.push_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), args.begin(), args.end());
  if (ModuleMode()) {
    module_state_ = absl::StrCat(dir, "/module", count, ".state");
    // A sidecar restarted on the port of an earlier one publishes where
    // that one did (and nginx reads).
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      uint32_t port = 0;
      if (args[i] != "--listen" || !absl::StartsWith(args[i + 1], "127.0.0.1:") ||
          !absl::SimpleAtoi(absl::string_view(args[i + 1]).substr(10), &port) || port == 0 ||
          port > 65535) {
        continue;
      }
      absl::MutexLock lock(&module_states_mu);
      auto it = ModuleStates().find(static_cast<uint16_t>(port));
      if (it != ModuleStates().end()) module_state_ = it->second;
    }
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--cloudfront-public-keys") cloudfront_keys_ = args[i + 1];
    }
    argv.push_back("--module-state");
    argv.push_back(module_state_);
  }
  process_ = std::make_unique<ChildProcess>(argv, err_path_ + ".out", err_path_, extra_env);
}

namespace {

// The sidecar's start line, {..,"event":"listening","http":"127.0.0.1:P",
// "metrics":"127.0.0.1:P"|"off",..}.
const std::regex& ListeningLine() {
  static const std::regex kListening(
      R"re("event":"listening","http":"127\.0\.0\.1:([0-9]+)","metrics":"(?:127\.0\.0\.1:([0-9]+)|off)")re");
  return kListening;
}

}  // namespace

uint16_t Sidecar::WaitListening(absl::Duration timeout) {
  const std::regex& kListening = ListeningLine();
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline && process_->Running()) {
    std::smatch m;
    const std::string log = ReadFileOrEmpty(err_path_);
    if (std::regex_search(log, m, kListening)) {
      const auto port = static_cast<uint16_t>(std::stoi(m[1]));
      if (!module_state_.empty()) {
        absl::MutexLock lock(&module_states_mu);
        ModuleStates()[port] = module_state_;
        if (!cloudfront_keys_.empty()) CloudFrontKeys()[port] = cloudfront_keys_;
      }
      return port;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return 0;
}

::testing::AssertionResult Sidecar::WaitReady(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const uint16_t port = WaitListening(timeout);
  while (port != 0 && absl::Now() < deadline) {
    std::optional<http::testing::TestResponse> r = http::testing::Fetch(port, "GET", "/healthz");
    if (r.has_value() && r->status == 200) return ::testing::AssertionSuccess();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return ::testing::AssertionFailure() << "sidecar never ready: " << log();
}

uint16_t Sidecar::MetricsPort() const {
  std::smatch m;
  const std::string log = ReadFileOrEmpty(err_path_);
  return std::regex_search(log, m, ListeningLine()) && m[2].matched
             ? static_cast<uint16_t>(std::stoi(m[2]))
             : 0;
}

std::optional<int> Sidecar::Stop() {
  process_->Signal(SIGTERM);
  return process_->WaitForExit(absl::Seconds(10));
}

std::string Sidecar::log() const { return ReadFileOrEmpty(err_path_); }

Nginx::Nginx(const std::string& prefix, const std::string& conf, std::vector<std::string> extra_env) {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kNginxPath, "-p", prefix, "-c", conf, "-e",
                               prefix + "/logs/error.log", "-g", "daemon off;"},
      prefix + "/logs/nginx.out", prefix + "/logs/nginx.err", extra_env);
}

Nginx::~Nginx() {
  if (process_->Running()) {
    process_->Signal(SIGTERM);
    process_->WaitForExit(absl::Seconds(10));
  }
}

bool WaitForPort(uint16_t port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (http::testing::TestConnection::Connect(port) != nullptr) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

std::string HeaderOr(const http::testing::TestResponse& r, absl::string_view name) {
  const std::string* v = r.Header(name);
  return v ? *v : "<none>";
}

bool NginxAvailable() {
  return !std::string(kNginxPath).empty() && std::filesystem::exists(kNginxPath);
}

absl::StatusOr<EdgeNginx> StartNginxOn(const std::string& root,
                                       const std::function<absl::StatusOr<EdgePorts>()>& write_conf,
                                       std::vector<std::string> extra_env) {
  const std::string pid_file = root + "/logs/nginx.pid";
  std::string error_log;
  for (int attempt = 0; attempt < 3; ++attempt) {
    EDGEPASS_ASSIGN_OR_RETURN(EdgePorts ports, write_conf());
    std::filesystem::remove(pid_file);
    auto nginx = std::make_unique<Nginx>(root, root + "/nginx.conf", extra_env);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!std::filesystem::exists(pid_file) && nginx->Running() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (std::filesystem::exists(pid_file) && WaitForPort(ports.edge) && WaitForPort(ports.origin)) {
      return EdgeNginx{.nginx = std::move(nginx), .ports = ports};
    }
    error_log = ReadFileOrEmpty(root + "/logs/error.log");
    if (!absl::StrContains(error_log, "bind()")) break;  // not a port taken first
  }
  return absl::UnavailableError(absl::StrCat("nginx did not start: ", error_log));
}

absl::StatusOr<EdgeNginx> StartEdgeNginx(const std::string& root, uint16_t sidecar_port) {
  return StartNginxOn(root, [&] { return WriteNginxConf(root, sidecar_port); });
}

absl::StatusOr<EdgePorts> WriteModuleNginxConf(const std::string& root, const std::string& module,
                                               const std::string& state_file,
                                               const std::string& cloudfront_keys) {
  for (const char* d : {"/logs", "/tmp"}) std::filesystem::create_directories(root + d);
  EdgePorts ports{.edge = FreeLoopbackPort(), .origin = FreeLoopbackPort()};
  std::string conf = ReadFileOrEmpty(kNginxModuleConf);
  constexpr char kShippedModule[] = "/usr/lib/nginx/modules/ngx_http_edgepass_module.so";
  constexpr char kShippedState[] = "/run/edgepass/module.state";
  for (absl::string_view literal :
       {"127.0.0.1:8080", "127.0.0.1:8082", "/srv/edgepass/hls", kShippedModule, kShippedState}) {
    if (!absl::StrContains(conf, literal)) {
      return absl::FailedPreconditionError(
          absl::StrCat(kNginxModuleConf, ": shipped config lost ", literal));
    }
  }
  conf = absl::StrReplaceAll(conf, {{"127.0.0.1:8080", absl::StrCat("127.0.0.1:", ports.edge)},
                                    {"127.0.0.1:8082", absl::StrCat("127.0.0.1:", ports.origin)},
                                    {"/srv/edgepass/hls", root + "/hls"},
                                    {kShippedModule, module},
                                    {kShippedState, state_file}});
  if (!cloudfront_keys.empty()) {
    constexpr char kKeys[] = "  # edgepass_cloudfront_public_keys /etc/edgepass/cloudfront-keys.json;";
    constexpr char kBase[] = "  # edgepass_cloudfront_url_base https://cdn.example.com;";
    constexpr char kRoute[] = "  # edgepass_cloudfront_route /premium/;";
    for (absl::string_view line : {kKeys, kBase, kRoute}) {
      if (!absl::StrContains(conf, line)) {
        return absl::FailedPreconditionError(
            absl::StrCat(kNginxModuleConf, ": shipped config lost ", line));
      }
    }
    conf = absl::StrReplaceAll(
        conf, {{kKeys, absl::StrCat("  edgepass_cloudfront_public_keys ", cloudfront_keys, ";")},
               {kBase, "  edgepass_cloudfront_url_base https://cdn.example.com;"},
               {kRoute, "  edgepass_cloudfront_route /premium/;"}});
  }
  if (::geteuid() == 0) conf = "user root;\n" + conf;
  WriteFileOrDie(root + "/nginx.conf", conf);
  return ports;
}

absl::StatusOr<EdgePorts> WriteNginxConf(const std::string& root, uint16_t sidecar_port) {
  if (ModuleMode()) {
    std::string state, cloudfront_keys;
    {
      absl::MutexLock lock(&module_states_mu);
      auto it = ModuleStates().find(sidecar_port);
      if (it != ModuleStates().end()) state = it->second;
      auto keys = CloudFrontKeys().find(sidecar_port);
      if (keys != CloudFrontKeys().end()) cloudfront_keys = keys->second;
    }
    if (state.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("no module state file for the sidecar on port ", sidecar_port));
    }
    return WriteModuleNginxConf(root, kNginxModulePath, state, cloudfront_keys);
  }
  for (const char* d : {"/logs", "/tmp"}) std::filesystem::create_directories(root + d);
  EdgePorts ports{.edge = FreeLoopbackPort(), .origin = FreeLoopbackPort()};
  std::string conf = ReadFileOrEmpty(kNginxConf);
  for (absl::string_view literal :
       {"127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082", "/srv/edgepass/hls"}) {
    if (!absl::StrContains(conf, literal)) {
      return absl::FailedPreconditionError(
          absl::StrCat(kNginxConf, ": shipped config lost ", literal));
    }
  }
  conf = absl::StrReplaceAll(conf, {{"127.0.0.1:8080", absl::StrCat("127.0.0.1:", ports.edge)},
                                    {"127.0.0.1:8081", absl::StrCat("127.0.0.1:", sidecar_port)},
                                    {"127.0.0.1:8082", absl::StrCat("127.0.0.1:", ports.origin)},
                                    {"/srv/edgepass/hls", root + "/hls"}});
  // Workers of a root master run as nobody, who cannot read the private
  // temp tree; in tests only, keep them root.
  if (::geteuid() == 0) conf = "user root;\n" + conf;
  WriteFileOrDie(root + "/nginx.conf", conf);
  return ports;
}

std::map<std::string, std::string> WriteHlsTree(const std::string& root) {
  std::map<std::string, std::string> files;
  files["/vod/demo/master.m3u8"] =
      "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\n720p/index.m3u8\n";
  files["/vod/demo/720p/index.m3u8"] =
      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nseg0.ts\n"
      "#EXTINF:2.0,\nseg1.ts\n#EXTINF:2.0,\nseg2.ts\n#EXT-X-ENDLIST\n";
  for (int i = 0; i < 3; ++i) {
    files[absl::StrCat("/vod/demo/720p/seg", i, ".ts")] = RandomBytes(20000 + 1000 * i);
  }
  files["/vod/free/clip.ts"] = RandomBytes(5000);
  for (const auto& [path, bytes] : files) {
    std::filesystem::create_directories(std::filesystem::path(root + "/hls" + path).parent_path());
    WriteFileOrDie(root + "/hls" + path, bytes);
  }
  return files;
}

}  // namespace edgepass::testing
