#include "store/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "base/fd.h"
#include "base/strings.h"

namespace tether::store {

namespace {

constexpr size_t kKeyLen = 32;
constexpr size_t kNonceLen = 12;
constexpr size_t kTagLen = 16;
constexpr char kVersion = 1;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Error crypto_error(const std::string& what) { return internal("store: secret " + what + " failed (OpenSSL)"); }

// Writes a fresh key under a temporary name and links it into place: link() fails if
// another process won the race, and then its key is the one everybody uses.
Status create_key(const std::string& path) {
  std::string key(kKeyLen, '\0');
  if (RAND_bytes(bytes(key), static_cast<int>(key.size())) != 1) return crypto_error("key generation");
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return io_error("store: cannot create secret key " + tmp);
    if (::write(fd.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size()) || ::fsync(fd.get()) != 0) {
      Error e = io_error("store: cannot write secret key " + tmp);
      ::unlink(tmp.c_str());
      return e;
    }
  }
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0 && err != EEXIST) {
    errno = err;
    return io_error("store: cannot install secret key " + path);
  }
  return {};
}

}  // namespace

Status SecretBox::load_key(bool create) {
  if (key_) return {};
  struct stat st;
  if (::stat(key_path_.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) return io_error("store: secret key " + key_path_);
    TRY_STATUS(create_key(key_path_));
  }
  std::string key = TRY(read_file(key_path_));
  if (key.size() != kKeyLen)
    return invalid("store: secret key " + key_path_ + " must hold exactly 32 bytes, it holds " +
                   std::to_string(key.size()));
  key_ = std::move(key);
  return {};
}

Result<std::string> SecretBox::seal(std::string_view plain, std::string_view context) {
  TRY_STATUS(load_key(true));
  std::string out(1 + kNonceLen + plain.size() + kTagLen, '\0');
  out[0] = kVersion;
  unsigned char* nonce = bytes(out) + 1;
  if (RAND_bytes(nonce, kNonceLen) != 1) return crypto_error("nonce generation");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(*key_), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(context), static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nonce + kNonceLen, &len, bytes(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), nonce + kNonceLen + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagLen, nonce + kNonceLen + plain.size()) != 1)
    return crypto_error("encryption");
  return out;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view context) {
  if (sealed.size() < 1 + kNonceLen + kTagLen || sealed[0] != kVersion)
    return invalid("store: secret blob is not in a known format");
  TRY_STATUS(load_key(false));
  const unsigned char* nonce = bytes(sealed) + 1;
  size_t n = sealed.size() - 1 - kNonceLen - kTagLen;
  std::string plain(n, '\0');
  std::string tag(sealed.substr(1 + kNonceLen + n));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, bytes(*key_), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(context), static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), bytes(plain), &len, nonce + kNonceLen, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagLen, tag.data()) != 1)
    return crypto_error("decryption");
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plain) + len, &len) != 1)
    return invalid("store: secret does not decrypt with " + key_path_ +
                   " (a different key, or the row was altered)");
  return plain;
}

}  // namespace tether::store
