// Authenticated encryption of secret values at rest: AES-256-GCM under a 32-byte key kept
// in a file of its own (mode 0600), so a copy of the database alone reveals nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tether::store {

class SecretBox {
 public:
  explicit SecretBox(std::string key_path) : key_path_(std::move(key_path)) {}

  // version byte | 12-byte nonce | ciphertext | 16-byte tag. `context` is authenticated
  // but not stored: binding a blob to its row means a blob copied onto another secret's
  // row fails to open instead of revealing one secret under another's name.
  Result<std::string> seal(std::string_view plain, std::string_view context);
  Result<std::string> open(std::string_view sealed, std::string_view context);

  const std::string& key_path() const { return key_path_; }

 private:
  // Reads the key, creating it on first use; an existing key is never replaced.
  Status load_key(bool create);
  std::string key_path_;
  std::optional<std::string> key_;
};

}  // namespace tether::store
