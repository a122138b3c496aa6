#include "ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>
#include <string>

#include "collage/log.h"
#include "collage/shared_values.h"

namespace collage::tls {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::size_t kKeyBytes = 16 + 32 + 32;

}  // namespace

TicketKeys& TicketKeys::instance() {
  static TicketKeys keys;
  return keys;
}

void TicketKeys::configure(std::chrono::seconds rotation) {
  const std::lock_guard lock(mutex_);
  rotation_ = rotation;
  if (local_.period == -1 && local_.name == std::array<unsigned char, 16>{}) {
    RAND_bytes(local_.name.data(), static_cast<int>(local_.name.size()));
    RAND_bytes(local_.hmac.data(), static_cast<int>(local_.hmac.size()));
    RAND_bytes(local_.aes.data(), static_cast<int>(local_.aes.size()));
  }
}

void TicketKeys::install(SSL_CTX* ctx) {
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, callback);
}

bool TicketKeys::shared_key(std::int64_t period, Key& key) {
  for (const Key& known : shared_) {
    if (known.period == period) {
      key = known;
      return true;
    }
  }
  const std::shared_ptr<SharedValues> values = shared_values();
  if (values == nullptr || now_ms() < retry_after_ms_) {
    return false;
  }
  std::string fresh(kKeyBytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), static_cast<int>(fresh.size()));
  // Kept while a ticket made with it may still come back: this period and the two after.
  const std::optional<std::string> agreed =
      values->add_or_get("tls-ticket-key:" + std::to_string(period), fresh, 3 * rotation_.count());
  if (!agreed || agreed->size() != kKeyBytes) {
    retry_after_ms_ = now_ms() + 10'000;  // one bounded wait per 10 s at most while it is down
    COLLAGE_LOG(LogLevel::warn, "COL-TLS-0002",
                "no shared session-ticket key for this period (the shared tier did not answer); "
                "tickets use this server's own key until it does");
    return false;
  }
  key.period = period;
  std::memcpy(key.name.data(), agreed->data(), 16);
  std::memcpy(key.hmac.data(), agreed->data() + 16, 32);
  std::memcpy(key.aes.data(), agreed->data() + 48, 32);
  shared_.push_back(key);
  if (shared_.size() > 3) {
    shared_.erase(shared_.begin());
  }
  return true;
}

TicketKeys::Key TicketKeys::current() {
  const std::lock_guard lock(mutex_);
  const std::int64_t period = now_ms() / 1000 / std::max<std::int64_t>(1, rotation_.count());
  Key key;
  return shared_key(period, key) ? key : local_;
}

bool TicketKeys::find(const unsigned char* name, Key& key, bool& is_current) {
  const std::lock_guard lock(mutex_);
  const std::int64_t period = now_ms() / 1000 / std::max<std::int64_t>(1, rotation_.count());
  if (std::memcmp(name, local_.name.data(), 16) == 0) {
    key = local_;
    is_current = shared_values() == nullptr;
    return true;
  }
  for (std::int64_t p = period; p >= period - 2; --p) {
    Key candidate;
    if (shared_key(p, candidate) && std::memcmp(name, candidate.name.data(), 16) == 0) {
      key = candidate;
      is_current = p == period;
      return true;
    }
  }
  return false;
}

int TicketKeys::callback(SSL* /*ssl*/, unsigned char* key_name, unsigned char* iv,
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  TicketKeys& keys = instance();
  Key key;
  bool is_current = true;
  if (encrypt != 0) {
    key = keys.current();
    std::memcpy(key_name, key.name.data(), 16);
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) {
      return -1;
    }
  } else if (!keys.find(key_name, key, is_current)) {
    return 0;  // not one of ours (or too old): a full handshake, and a new ticket
  }
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) {
    return -1;
  }
  const int ok = encrypt != 0
                     ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv)
                     : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv);
  if (ok != 1) {
    return -1;
  }
  return encrypt != 0 || is_current ? 1 : 2;  // 2: accepted, and a ticket with today's key follows
}

}  // namespace collage::tls
