#pragma once
// TLS session-ticket keys (RFC 5077, RFC 8446 §4.6.1). Without a shared store, one random key
// made when the configuration is loaded, before the children fork, so every child of the server
// takes every other child's tickets. With one (the cache's memcached tier, shared_values.h), a
// key per rotation period that the first node to need it stores and every other node reads, so
// a client resumes on any node; tickets of the two periods before still decrypt (and are
// renewed).

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

namespace collage::tls {

class TicketKeys {
 public:
  // The process's keys; configure() before the children fork.
  static TicketKeys& instance();
  void configure(std::chrono::seconds rotation);
  void install(SSL_CTX* ctx);

 private:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> hmac{};
    std::array<unsigned char, 32> aes{};
    std::int64_t period = -1;  // -1: the local key
  };

  static int callback(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt);
  // The key to encrypt with now; the local one when no shared store answers.
  Key current();
  bool find(const unsigned char* name, Key& key, bool& is_current);
  // The shared key of a period, fetched once (or stored, by the first node); false if unreachable.
  bool shared_key(std::int64_t period, Key& key);

  std::mutex mutex_;
  std::chrono::seconds rotation_{12 * 3600};
  Key local_;
  std::vector<Key> shared_;  // recent periods, newest last
  std::int64_t retry_after_ms_ = 0;
};

}  // namespace collage::tls
