// edgepass-server: wiring only. Parses options, opens the embedded data
// directory (keyring, catalog, revocations), serves edgepass.v1 over gRPC and
// drains on SIGTERM/SIGINT.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "core/random.h"
#include "core/status_macros.h"
#include "server/adapters/atomic_file.h"
#include "server/adapters/file_catalog_store.h"
#include "server/adapters/file_keyring_store.h"
#include "server/adapters/file_revocation_store.h"
#include "server/api/playback_service.h"
#include "server/catalog.h"
#include "server/config.h"
#include "server/smd_import.h"

namespace {

using edgepass::server::Catalog;

constexpr int kExitStartFailure = 1;
constexpr int kExitBadConfig = 2;
constexpr int kMaxReceiveMessageBytes = 256 * 1024;

void LogLine(absl::string_view line) { std::cerr << "edgepass-server: " << line << std::endl; }

// The catalog in the data dir with the start-up imports merged in; every
// input is validated before the file is rewritten, so an error writes nothing.
absl::StatusOr<Catalog> LoadCatalog(const edgepass::server::ServerOptions& options,
                                    const edgepass::server::FileCatalogStore& store) {
  EDGEPASS_ASSIGN_OR_RETURN(Catalog catalog, store.LoadOrCreate());
  bool changed = false;
  if (!options.catalog_file.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(std::string text,
                              edgepass::server::ReadFileToString(options.catalog_file));
    EDGEPASS_ASSIGN_OR_RETURN(Catalog overlay, Catalog::Parse(text, options.catalog_file));
    EDGEPASS_ASSIGN_OR_RETURN(catalog, Catalog::Merge(catalog, overlay, options.catalog_file));
    changed = true;
  }
  if (!options.import_smd_assets.empty()) {
    EDGEPASS_ASSIGN_OR_RETURN(std::string text,
                              edgepass::server::ReadFileToString(options.import_smd_assets));
    EDGEPASS_ASSIGN_OR_RETURN(Catalog imported,
                              edgepass::server::ParseSmdAssets(text, options.import_smd_assets));
    EDGEPASS_ASSIGN_OR_RETURN(catalog, Catalog::Merge(catalog, imported, options.import_smd_assets));
    LogLine(absl::StrCat("imported ", imported.assets().size(), " SMD asset(s) from ",
                         options.import_smd_assets));
    changed = true;
  }
  if (changed) EDGEPASS_RETURN_IF_ERROR(store.Save(catalog));
  return catalog;
}

}  // namespace

int main(int argc, char** argv) {
  namespace server = edgepass::server;
  absl::StatusOr<server::ServerOptions> options = server::ParseServerOptions(
      std::vector<std::string>(argv + 1, argv + argc), [](const char* name) { return std::getenv(name); });
  if (!options.ok()) {
    LogLine(absl::StrCat("bad configuration: ", options.status().message(), " (see --help)"));
    return kExitBadConfig;
  }
  if (options->help) {
    std::cout << server::HelpText();
    return 0;
  }

  // Blocked before gRPC starts its threads, so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string& dir = options->data_dir;
  if (absl::Status s = server::MakeDirectories(dir); !s.ok()) {
    LogLine(absl::StrCat("cannot start: ", s.message()));
    return kExitStartFailure;
  }
  edgepass::core::SecureRandom random;
  server::FileKeyringStore keyring_store(dir + "/keyring.json");
  absl::StatusOr<edgepass::core::Keyring> keyring = keyring_store.LoadOrCreate(absl::Now(), random);
  if (!keyring.ok()) {
    LogLine(absl::StrCat("cannot start: ", keyring.status().message(),
                         " (the file is left unchanged; fix or remove it)"));
    return kExitStartFailure;
  }
  absl::StatusOr<Catalog> catalog =
      LoadCatalog(*options, server::FileCatalogStore(dir + "/catalog.json"));
  if (!catalog.ok()) {
    LogLine(absl::StrCat("cannot start: ", catalog.status().message()));
    return kExitStartFailure;
  }
  absl::StatusOr<edgepass::core::RevocationSet> revoked =
      server::FileRevocationStore(dir + "/revocations.json").Load();
  if (!revoked.ok()) {
    LogLine(absl::StrCat("cannot start: ", revoked.status().message()));
    return kExitStartFailure;
  }

  server::PlaybackServiceImpl playback(*catalog, *keyring, &random, [] { return absl::Now(); },
                                       {.default_token_ttl = options->default_token_ttl});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options->grpc_addr, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxReceiveMessageBytes);
  builder.RegisterService(&playback);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    LogLine(absl::StrCat("cannot start: cannot listen on ", options->grpc_addr));
    return kExitStartFailure;
  }
  std::string host;
  int unused_port;
  (void)server::SplitHostPort(options->grpc_addr, &host, &unused_port);
  if (host.find(':') != std::string::npos) host = absl::StrCat("[", host, "]");
  LogLine(absl::StrCat("listening on ", host, ":", port, ", data dir ", dir, ", ",
                       catalog->assets().size(), " asset(s), ", revoked->size(),
                       " revoked session(s); WARNING: no authentication (loopback only)"));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogLine(absl::StrCat("received ", strsignal(signal_number), ", draining for up to ",
                       absl::FormatDuration(options->shutdown_grace)));
  grpc_server->Shutdown(absl::ToChronoTime(absl::Now() + options->shutdown_grace));
  grpc_server->Wait();
  LogLine("stopped");
  return 0;
}
