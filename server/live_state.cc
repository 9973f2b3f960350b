#include "server/live_state.h"

#include <algorithm>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/crypto.h"
#include "core/status_macros.h"

namespace edgepass::server {
namespace {

void LogLine(absl::string_view line) { std::cerr << "edgepass-server: " << line << std::endl; }

}  // namespace

std::string KeyringFingerprint(const core::Keyring& keyring) {
  const core::Sha256Digest digest =
      core::HmacSha256("edgepass keyring fingerprint", core::KeyringToJson(keyring));
  return core::HexEncode(absl::string_view(reinterpret_cast<const char*>(digest.data()), 8));
}

LiveState::LiveState(CatalogStore* catalogs, SessionStore* sessions, KeyringSource* keys,
                     ChangeFeed* feed, Clock clock, LiveStateOptions options)
    : catalogs_(catalogs),
      sessions_(sessions),
      keys_(keys),
      feed_(feed),
      clock_(std::move(clock)),
      options_(options) {}

LiveState::~LiveState() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status LiveState::Start() {
  EDGEPASS_RETURN_IF_ERROR(ReloadCatalog());
  EDGEPASS_RETURN_IF_ERROR(ReloadEdge(/*sessions_changed=*/true));
  feed_->Subscribe([this](ChangeKind kind) { RequestReload(kind); });
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

std::shared_ptr<const Catalog> LiveState::catalog() const {
  absl::MutexLock lock(&mu_);
  return catalog_;
}

std::shared_ptr<const EdgeSnapshot> LiveState::edge() const {
  absl::MutexLock lock(&mu_);
  return edge_;
}

void LiveState::RequestReload(ChangeKind kind) {
  absl::MutexLock lock(&mu_);
  if (kind == ChangeKind::kCatalog) catalog_dirty_ = true;
  if (kind == ChangeKind::kSessions) sessions_dirty_ = true;
  // kKeyring: the keyring source invalidates itself; the poll picks it up.
}

std::shared_ptr<const EdgeSnapshot> LiveState::WaitForEdgeChange(const EdgeSnapshot& have,
                                                                 absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || !edge_->SameAs(have); };
  mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
  return edge_;
}

bool LiveState::AwaitEdgeVersion(uint64_t version, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_ || edge_->version >= version; };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout) && edge_->version >= version;
}

absl::Status LiveState::ReloadCatalog() {
  EDGEPASS_ASSIGN_OR_RETURN(VersionedCatalog loaded, catalogs_->Load());
  absl::MutexLock lock(&mu_);
  catalog_ = std::move(loaded.catalog);
  return absl::OkStatus();
}

absl::Status LiveState::ReloadEdge(bool sessions_changed) {
  EDGEPASS_ASSIGN_OR_RETURN(std::shared_ptr<const core::Keyring> keyring, keys_->Current());
  std::string fingerprint = KeyringFingerprint(*keyring);
  SessionList list;
  if (sessions_changed) {
    EDGEPASS_ASSIGN_OR_RETURN(list, sessions_->List());
  }
  absl::MutexLock lock(&mu_);
  if (sessions_changed) {
    stored_sessions_ = std::move(list.entries);
    stored_sessions_version_ = list.version;
  } else if (edge_ != nullptr && edge_->keyring_fingerprint == fingerprint) {
    return absl::OkStatus();
  }
  auto next = std::make_shared<EdgeSnapshot>();
  next->version = stored_sessions_version_;
  next->keyring = std::move(keyring);
  next->keyring_fingerprint = std::move(fingerprint);
  for (const core::RevocationEntry* e :
       core::CompileRevocationList(stored_sessions_, clock_(), options_.revocations)) {
    next->revoked.push_back({e->session_id, e->expires_at});
  }
  std::sort(next->revoked.begin(), next->revoked.end(),
            [](const EdgeRevoked& a, const EdgeRevoked& b) { return a.session_id < b.session_id; });
  if (edge_ != nullptr && edge_->SameAs(*next) && edge_->revoked == next->revoked) {
    return absl::OkStatus();
  }
  edge_ = std::move(next);
  return absl::OkStatus();
}

void LiveState::Run() {
  absl::Time next_full = clock_() + options_.refresh_interval;
  // Pending reloads survive failures and are retried at the next poll, so a
  // store outage neither spins this loop nor loses a notification.
  bool catalog_pending = false;
  bool sessions_pending = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stop_ || catalog_dirty_ || sessions_dirty_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&woken), options_.keyring_poll_interval);
      if (stop_) return;
      catalog_pending = catalog_pending || catalog_dirty_;
      sessions_pending = sessions_pending || sessions_dirty_;
      catalog_dirty_ = sessions_dirty_ = false;
    }
    if (clock_() >= next_full) {
      catalog_pending = sessions_pending = true;
      next_full = clock_() + options_.refresh_interval;
    }
    if (catalog_pending) {
      absl::Status s = ReloadCatalog();
      if (!s.ok()) LogLine(absl::StrCat("catalog reload failed, serving the last one: ", s.message()));
      catalog_pending = !s.ok();
    }
    absl::Status s = ReloadEdge(sessions_pending);
    if (!s.ok() && sessions_pending) {
      LogLine(absl::StrCat("revocation list reload failed, serving the last one: ", s.message()));
    }
    sessions_pending = sessions_pending && !s.ok();
  }
}

}  // namespace edgepass::server
