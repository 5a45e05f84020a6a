#include "policies/validators.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "policies/string_view_compat.h"

namespace warden::policies {
namespace {


bool StartsWithAny(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (std::string_view p : prefixes) {
    if (s.substr(0, p.size()) == p) return true;
  }
  return false;
}

int PrefixNumber(std::string_view digits, size_t n) {
  int value = 0;
  for (size_t i = 0; i < n && i < digits.size(); ++i) value = value * 10 + (digits[i] - '0');
  return value;
}

bool KnownCardPrefix(std::string_view d) {
  const size_t n = d.size();
  if (d[0] == '4') return n == 13 || n == 16 || n == 19;                     // Visa
  const int p2 = PrefixNumber(d, 2), p4 = PrefixNumber(d, 4), p6 = PrefixNumber(d, 6);
  if ((p2 >= 51 && p2 <= 55) || (p6 >= 222100 && p6 <= 272099)) return n == 16;  // MC
  if (p2 == 34 || p2 == 37) return n == 15;                                  // Amex
  if (p4 == 6011 || p2 == 65 || (p6 >= 622126 && p6 <= 622925)) return n >= 16;  // Discover
  if (PrefixNumber(d, 3) >= 644 && PrefixNumber(d, 3) <= 649) return n >= 16;
  if (p2 == 36 || p2 == 38 || (PrefixNumber(d, 3) >= 300 && PrefixNumber(d, 3) <= 305)) {
    return n >= 14;                                                          // Diners
  }
  if (p4 >= 3528 && p4 <= 3589) return n >= 16;                              // JCB
  if (p2 == 62) return n >= 16;                                              // UnionPay
  if (StartsWithAny(d, {"50", "56", "57", "58", "6304", "6759", "6761", "6762", "6763"})) {
    return n >= 12;                                                          // Maestro
  }
  return false;
}

// Lengths of IBANs per ISO 13616 country code (common subset; others need 15..34).
int IbanLength(std::string_view country) {
  static constexpr std::pair<std::string_view, int> kLengths[] = {
      {"AD", 24}, {"AE", 23}, {"AT", 20}, {"BE", 16}, {"BG", 22}, {"CH", 21}, {"CY", 28},
      {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"EE", 20}, {"ES", 24}, {"FI", 18}, {"FR", 27},
      {"GB", 22}, {"GR", 27}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IS", 26}, {"IT", 27},
      {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MT", 31}, {"NL", 18},
      {"NO", 15}, {"PL", 28}, {"PT", 25}, {"RO", 24}, {"SA", 24}, {"SE", 24}, {"SI", 19},
      {"SK", 24}, {"SM", 27}, {"TR", 26}, {"UA", 29}};
  for (const auto& [code, length] : kLengths) {
    if (code == country) return length;
  }
  return 0;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::string DigitsOf(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return digits;
}

bool LuhnValid(std::string_view text) {
  const std::string digits = DigitsOf(text);
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool CreditCardValid(std::string_view text) {
  const std::string digits = DigitsOf(text);
  if (digits.size() < 12 || digits.size() > 19) return false;
  return KnownCardPrefix(digits) && LuhnValid(digits);
}

bool IbanValid(std::string_view text) {
  std::string iban;
  for (char c : text) {
    if (c == ' ') continue;
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
    iban.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  if (iban.size() < 15 || iban.size() > 34) return false;
  if (!absl::ascii_isalpha(iban[0]) || !absl::ascii_isalpha(iban[1])) return false;
  if (!absl::ascii_isdigit(iban[2]) || !absl::ascii_isdigit(iban[3])) return false;
  const int expected = IbanLength(std::string_view(iban).substr(0, 2));
  if (expected != 0 && static_cast<int>(iban.size()) != expected) return false;
  const std::string rotated = iban.substr(4) + iban.substr(0, 4);
  int remainder = 0;
  for (char c : rotated) {
    const int value = absl::ascii_isdigit(c) ? c - '0' : c - 'A' + 10;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder == 1;
}

bool UsSsnValid(std::string_view text) {
  const std::string d = DigitsOf(text);
  if (d.size() != 9) return false;
  const int area = PrefixNumber(d, 3);
  const int group = PrefixNumber(std::string_view(d).substr(3), 2);
  const int serial = PrefixNumber(std::string_view(d).substr(5), 4);
  if (area == 0 || area == 666 || area >= 900) return false;
  if (group == 0 || serial == 0) return false;
  // Well-known advertising/sample numbers.
  return d != "078051120" && d != "219099999" && d != "123456789";
}

bool Ipv4Valid(std::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(ToAbsl(text), '.');
  if (parts.size() != 4) return false;
  for (absl::string_view part : parts) {
    if (part.empty() || part.size() > 3) return false;
    if (part.size() > 1 && part[0] == '0') return false;
    int value = 0;
    if (!absl::SimpleAtoi(part, &value) || value > 255) return false;
  }
  return true;
}

bool DateValid(std::string_view text) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(ToAbsl(text), absl::ByAnyChar("-./"), absl::SkipEmpty());
  if (parts.size() != 3) return false;
  int a = 0, b = 0, c = 0;
  if (!absl::SimpleAtoi(parts[0], &a) || !absl::SimpleAtoi(parts[1], &b) ||
      !absl::SimpleAtoi(parts[2], &c)) {
    return false;
  }
  int year, first, second;  // first/second: day-month in either order.
  if (parts[0].size() == 4) {
    year = a, first = b, second = c;
  } else if (parts[2].size() == 4 || parts[2].size() == 2) {
    year = parts[2].size() == 2 ? 1900 + c : c, first = a, second = b;
  } else {
    return false;
  }
  if (year < 1900 || year > 2099) return false;
  const bool day_month = first >= 1 && first <= 31 && second >= 1 && second <= 12;
  const bool month_day = first >= 1 && first <= 12 && second >= 1 && second <= 31;
  return day_month || month_day;
}

double ShannonEntropy(std::string_view text) {
  if (text.empty()) return 0.0;
  std::array<int, 256> counts{};
  for (unsigned char c : text) ++counts[c];
  double entropy = 0.0;
  const double n = static_cast<double>(text.size());
  for (int count : counts) {
    if (count == 0) continue;
    const double p = count / n;
    entropy -= p * std::log2(p);
  }
  return entropy;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = Base64Value(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace warden::policies
