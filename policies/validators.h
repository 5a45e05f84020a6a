// Checksums and plausibility checks that turn a regex candidate into a finding: Luhn,
// IBAN mod-97, US SSN ranges, IPv4 octets, dates, Shannon entropy, base64 decoding.
// Pure functions over the matched text; thread-safe.
#ifndef WARDEN_POLICIES_VALIDATORS_H_
#define WARDEN_POLICIES_VALIDATORS_H_

#include <optional>
#include <string>
#include <string_view>

namespace warden::policies {

// The ASCII digits of `text`, in order (separators dropped).
std::string DigitsOf(std::string_view text);

// Luhn checksum over the digits of `text`.
bool LuhnValid(std::string_view text);
// 13..19 digits, a known issuer prefix (Visa, Mastercard, Amex, Discover, Diners, JCB,
// UnionPay, Maestro) and a valid Luhn checksum. Separators are ignored.
bool CreditCardValid(std::string_view text);
// Country-specific length and ISO 13616 mod-97 == 1. Spaces are ignored; letters are
// compared case-insensitively.
bool IbanValid(std::string_view text);
// AAA-GG-SSSS with area not 000, 666 or 900-999, group not 00, serial not 0000.
bool UsSsnValid(std::string_view text);
// Dotted quad with every octet 0..255 and no leading zeros.
bool Ipv4Valid(std::string_view text);
// Y-M-D, D.M.Y, D/M/Y or M/D/Y with a plausible birth year (1900..2099) and day/month.
bool DateValid(std::string_view text);
// Shannon entropy of the bytes of `text`, bits per byte.
double ShannonEntropy(std::string_view text);
// Standard or URL-safe base64 (padding optional); nullopt when it is not base64.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace warden::policies

#endif  // WARDEN_POLICIES_VALIDATORS_H_
