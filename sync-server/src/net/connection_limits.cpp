#include "connection_limits.h"

namespace sync_server::net {

Slot& Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    upload_ = other.upload_;
    address_ = std::move(other.address_);
  }
  return *this;
}

void Slot::release() noexcept {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->give_back(upload_, address_);
}

void Limits::configure(std::size_t max_connections, std::size_t max_per_address, std::size_t max_uploads) {
  max_connections_ = max_connections;
  max_per_address_ = max_per_address;
  max_uploads_ = max_uploads;
}

std::optional<Slot> Limits::take_connection(const std::string& address) {
  std::lock_guard lock(mutex_);
  if (connections_ >= max_connections_) return std::nullopt;
  auto& from_address = by_address_[address];
  if (from_address >= max_per_address_) {
    if (from_address == 0) by_address_.erase(address);
    return std::nullopt;
  }
  ++from_address;
  ++connections_;
  return Slot(this, false, address);
}

std::optional<Slot> Limits::take_upload() {
  std::lock_guard lock(mutex_);
  if (uploads_ >= max_uploads_) return std::nullopt;
  ++uploads_;
  return Slot(this, true, "");
}

std::size_t Limits::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

void Limits::give_back(bool upload, const std::string& address) noexcept {
  std::lock_guard lock(mutex_);
  if (upload) {
    --uploads_;
    return;
  }
  --connections_;
  const auto found = by_address_.find(address);
  if (found != by_address_.end() && --found->second == 0) by_address_.erase(found);
}

}  // namespace sync_server::net
