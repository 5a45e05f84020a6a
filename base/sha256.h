// SHA-256 (FIPS 180-4) and HMAC-SHA256, for API-key hashes, policy versions, keyed
// redaction hashes and audit content hashes. Pure functions; thread-safe.
#ifndef WARDEN_BASE_SHA256_H_
#define WARDEN_BASE_SHA256_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace warden {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental hasher. Not thread-safe; one per computation.
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  Sha256Digest Finish();

 private:
  void Compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  uint64_t total_bytes_ = 0;
  size_t buffered_ = 0;
};

Sha256Digest Sha256Of(std::string_view data);
// Lowercase hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view message);
std::string ToHex(const Sha256Digest& digest);

// Compares two byte strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace warden

#endif  // WARDEN_BASE_SHA256_H_
