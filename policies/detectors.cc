#include "policies/detectors.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "policies/validators.h"

namespace warden::policies {
namespace {

constexpr std::string_view kDigits = "0123456789";
constexpr size_t kMaxEmailLocalPart = 64;
constexpr size_t kMinPhoneDigits = 7;

// Boundaries as non-capturing context around the finding (group 1). RE2 has no
// look-around, so the trailing boundary is consumed and the scanner resumes after group 1.
#define WORD_BOUNDED(body) "(?:^|[^A-Za-z0-9_])(" body ")(?:[^A-Za-z0-9_]|$)"
#define DIGIT_BOUNDED(body) "(?:^|[^0-9A-Za-z])(" body ")(?:[^0-9A-Za-z]|$)"
constexpr ContextBounds kWordBounds = {"A-Za-z0-9_", "A-Za-z0-9_"};
constexpr ContextBounds kDigitBounds = {"0-9A-Za-z", "0-9A-Za-z"};
constexpr ContextBounds kKeyBounds = {"A-Za-z0-9_\\-", "A-Za-z0-9_\\-"};

// E-mail. The finding is a whole run of local-part characters, so a context character
// before it is none of them (nor ':' or '/', see below) and no letter. Scripts written
// without spaces (DENSE) may run into an address: after one of their characters an
// address may begin, and a local part of theirs is a run of them only.
#define EMAIL_DENSE "\\p{Han}\\p{Hiragana}\\p{Katakana}\\p{Thai}\\p{Lao}\\p{Khmer}\\p{Myanmar}\\x{30FC}"
#define EMAIL_BEFORE "A-Za-z0-9._%+\\-:/\\pL\\pM"
#define EMAIL_AFTER "A-Za-z0-9\\-"
// ':' and '/' before the local part are context only where they cannot be a URL's
// user-info ("scheme://user:password@host" and "scheme://user@host", which
// PASSWORD_IN_URL covers): ':' after a label ("Email:", "mailto:", "E-mail:") whose run
// begins the text or follows a character that is not '/' or ':' (nor a label
// character), or after a DENSE character; '/' after a character other than '/' or ':'
// ("users/john@example.com"). Every such context ends with ':' or '/' (context_end),
// which no address contains; a DENSE character alone is also context.
#define EMAIL_CONTEXT                                                                            \
  "(?:^|[^A-Za-z0-9._%+\\-:/\\x{80}-\\x{10FFFF}])[A-Za-z0-9._%+\\-\\x{80}-\\x{10FFFF}]{0,24}:" \
  "|[^/:]/|[" EMAIL_DENSE "]:?"
// Local part: ASCII local-part characters, letters of spaced scripts and marks
// ("josé"), or a run of DENSE letters ("用户"). Domain labels: ASCII letters, digits,
// '-' and any letter or mark (U-labels); the top-level domain is ASCII letters, an
// A-label ("xn--p1ai") or non-ASCII letters ("广告", "рф").
#define EMAIL_BODY                                                                               \
  "(?:(?:[A-Za-z0-9._%+\\-\\pM]|[^\\x00-\\x7F\\PL" EMAIL_DENSE "])+|[" EMAIL_DENSE "]+)"       \
  "@(?:[A-Za-z0-9\\-\\pL\\pM]+\\.)+"                                                             \
  "(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9\\-]{1,59}|[^\\x00-\\x7F\\PL](?:[^\\x00-\\x7F\\PL]|\\pM)*)"
#define IPV4 "\\d{1,3}(?:\\.\\d{1,3}){3}"
#define IP_AFTER "(?:[^0-9A-Za-z.:]|[.:][^0-9A-Za-z]|[.:]?$)"
constexpr ContextBounds kEmailBounds = {EMAIL_BEFORE, EMAIL_AFTER, {}, EMAIL_CONTEXT, ":/", true};

size_t Whole(std::string_view s, bool ok) { return ok ? s.size() : 0; }

size_t ValidateEmail(std::string_view s, const DetectorParams&) {
  return Whole(s, s.find('@') <= kMaxEmailLocalPart);
}

size_t ValidateCard(std::string_view s, const DetectorParams&) {
  // The regex is greedy over digit groups; retry without trailing groups ("... 1111 2").
  while (!s.empty()) {
    if (CreditCardValid(s)) return s.size();
    const size_t cut = s.find_last_of(" -");
    if (cut == std::string_view::npos) return 0;
    s = s.substr(0, cut);
  }
  return 0;
}

size_t ValidatePhone(std::string_view s, const DetectorParams&) {
  const size_t digits = DigitsOf(s).size();
  return Whole(s, digits >= kMinPhoneDigits && digits <= 15);
}

size_t ValidateIban(std::string_view s, const DetectorParams&) {
  while (!s.empty()) {  // Like cards: a following word may have been taken as a group.
    if (IbanValid(s)) return s.size();
    const size_t cut = s.find_last_of(' ');
    if (cut == std::string_view::npos) return 0;
    s = s.substr(0, cut);
  }
  return 0;
}

size_t ValidateSsn(std::string_view s, const DetectorParams&) { return Whole(s, UsSsnValid(s)); }

size_t ValidateIp(std::string_view s, const DetectorParams&) {
  if (s.find(':') == std::string_view::npos) return Whole(s, Ipv4Valid(s));
  const std::string address(s);
  in6_addr parsed;
  size_t hex = 0;
  for (char c : s) hex += absl::ascii_isxdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  return Whole(s, hex >= 2 && inet_pton(AF_INET6, address.c_str(), &parsed) == 1);
}

size_t ValidateUrl(std::string_view s, const DetectorParams&) {
  while (!s.empty() && std::string_view(".,;:!?)]}'\"").find(s.back()) != std::string_view::npos) {
    s.remove_suffix(1);
  }
  return s.size();
}

size_t ValidateDate(std::string_view s, const DetectorParams&) {
  if (!s.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(s.back()))) return 0;
  // Dates with a month name ("3 March 1990") are accepted by the regex itself.
  for (char c : s) {
    if (absl::ascii_isalpha(static_cast<unsigned char>(c))) return s.size();
  }
  return Whole(s, DateValid(s));
}

size_t ValidateMixedKey(std::string_view s, const DetectorParams&) {
  bool digit = false, lower = false, upper = false;
  for (char c : s) {
    digit |= absl::ascii_isdigit(static_cast<unsigned char>(c));
    lower |= absl::ascii_islower(static_cast<unsigned char>(c));
    upper |= absl::ascii_isupper(static_cast<unsigned char>(c));
  }
  return Whole(s, digit && lower && upper);
}

size_t ValidateJwt(std::string_view s, const DetectorParams&) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return 0;
  std::optional<std::string> header = DecodeBase64(s.substr(0, dot));
  return Whole(s, header.has_value() && absl::StrContains(*header, "\"alg\""));
}

// The bytes of a HIGH_ENTROPY_SECRET value (the class its regex starts it with).
bool IsSecretValueByte(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         (c != '\0' && std::strchr("+/=_-.!@#$%^&*", c) != nullptr);
}

size_t ValidateEntropy(std::string_view s, const DetectorParams& params) {
  return Whole(s, s.size() >= 8 && ShannonEntropy(s) >= params.min_entropy);
}

// Large counted repetitions ({1,256}) make RE2 programs and DFAs huge, so patterns use
// '+' and each detector states the longest finding it accepts (`max_bytes`); longer
// candidates are rejected by the scanner, and the streaming hold-back uses the bound.
constexpr DetectorSpec kDetectors[] = {
    // See EMAIL_CONTEXT and EMAIL_BODY above. The local part is the whole run of
    // local-part characters before the '@' (the context before it is none of them), so the
    // validator's 64-byte limit rejects exactly what "{1,64}" would; "+" keeps the program
    // small (submatches cost less). The '@' is at most 64 bytes of local part and 98 of
    // context (a one-byte label start, a 24-character label, ':') into a match.
    {v1::EMAIL, "EMAIL",
     "(?:^|[^" EMAIL_BEFORE "]|" EMAIL_CONTEXT ")(" EMAIL_BODY ")(?:[^" EMAIL_AFTER "]|$)",
     ValidateEmail, 254, "@", 168, {}, kEmailBounds},
    // A phone number does not continue a run of digit groups (a card, an IBAN): before a
    // separator there must be no digit. US numbers may have a leading "1" trunk prefix
    // ("1-800-555-0199") and no separator after the area code in parentheses
    // ("(415)555-2671"). An extension ("x123", " ext. 123") is context after the number,
    // not part of the finding (its digits would not be the number's).
    // Candidate runs: the finding's characters are all in the run's byte set, so it lies
    // in one maximal run; the context before it is one character (at most 4 bytes) that is
    // either in the run or just outside it, after it an extension (" ext. " and 6 digits)
    // and one character (at most 16 bytes after the run).
    {v1::PHONE, "PHONE",
     "(?:^|[^0-9A-Za-z .\\-]|[^0-9 \\-][ .\\-])("
     "\\+[1-9]\\d{0,2}[ .\\-]?(?:\\(?\\d{1,4}\\)?[ .\\-]?){1,4}\\d{2,4}"
     "|(?:1[ .\\-])?(?:\\(?\\d{3}\\)?[ .\\-]|\\(\\d{3}\\))\\d{3}[ .\\-]\\d{4}"
     "|0\\d{2,4}[ \\-]?\\d{3,4}[ \\-]?\\d{3,4})"
     "(?: ?(?:[xX]|[eE][xX][tT]\\.?) ?\\d{1,6})?(?:[^0-9A-Za-z]|$)",
     ValidatePhone, 60, {}, 0, {"0123456789 .-()+", kDigits, 5, 4, 16, kMinPhoneDigits}},
    {v1::CREDIT_CARD, "CREDIT_CARD", DIGIT_BOUNDED("\\d(?:[ \\-]?\\d){11,18}"), ValidateCard, 40,
     {}, 0, {"0123456789 -", kDigits, 12, 4, 4, 12}, kDigitBounds},
    // Letters in either case ("de89 3704 ...", "gb82 west ..."): IbanValid ignores case.
    {v1::IBAN, "IBAN",
     DIGIT_BOUNDED("[A-Za-z]{2}\\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?"), ValidateIban, 45,
     {}, 0, {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ", kDigits, 12, 4, 4},
     kDigitBounds},
    {v1::US_SSN, "US_SSN", DIGIT_BOUNDED("\\d{3}-\\d{2}-\\d{4}|\\d{3} \\d{2} \\d{4}"), ValidateSsn,
     11, {}, 0, {"0123456789 -", kDigits, 11, 4, 4, 9}, kDigitBounds},
    // IPv4 has digits and dots, IPv6 at least two colons; an IPv6 address may end in a
    // dotted quad ("::ffff:192.168.1.1", validated as IPv6). The context before is not in
    // the run; after it may be ".x" or ":x" with x a character outside it. An IPv4 address
    // may also follow a label and ':' ("IP:10.0.0.1", "id:10.0.0.1") when that ':' is not
    // in an IPv6 run: the hex digits before it (at most 16) follow a character outside the
    // run. It may be followed by a port (":8080", context, not part of the finding).
    // So every match begins with the character just before a run and lies within it and 4
    // bytes after it: the longest is 4 + 16 + 1 + 15 + 6 + 4 bytes (IPv4), 4 + 45 + 4
    // (IPv6, whose finding is at most 45 bytes).
    {v1::IP_ADDRESS, "IP_ADDRESS",
     "(?:^|[^0-9A-Za-z.:]|(?:^|[^0-9A-Fa-f.:])[0-9A-Fa-f]{0,16}:)(" IPV4 ")(?::\\d{1,5})?" IP_AFTER
     "|(?:^|[^0-9A-Za-z.:])((?:[0-9A-Fa-f]{0,4}:){2,6}" IPV4 "|[0-9A-Fa-f]*(?::[0-9A-Fa-f]*){2,7})" IP_AFTER,
     ValidateIp, 45, {}, 0, {"0123456789abcdefABCDEF.:", "0123456789:", 2, 4, 4, 1, ".:", true}},
    {v1::URL, "URL", "(?i)(?:^|[^a-z0-9])((?:https?|ftp)://[^\\s<>\"'`]+)", ValidateUrl, 512,
     "://", 6},
    {v1::DATE_OF_BIRTH, "DATE_OF_BIRTH",
     "(?i)(?:born(?: on)?|date of birth|d\\.?o\\.?b\\.?|birth ?date|birthday|geboren(?: am)?)"
     "[:\\s]{1,3}(\\d{1,4}[./\\-]\\d{1,2}[./\\-]\\d{2,4}|\\d{1,2} (?:jan|feb|mar|apr|may|jun|jul"
     "|aug|sep|oct|nov|dec)[a-z]{0,6},? \\d{4})(?:[^0-9]|$)",
     ValidateDate, 48},
    {v1::AWS_ACCESS_KEY_ID, "AWS_ACCESS_KEY_ID",
     WORD_BOUNDED("(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"), nullptr, 20, {}, 0, {}, kWordBounds},
    {v1::AWS_SECRET_KEY, "AWS_SECRET_KEY",
     "(?i:aws[_\\- ]?)?(?i:secret)[_\\- ]?(?i:access[_\\- ]?)?(?i:key)[\"']?\\s{0,3}[:=]\\s{0,3}"
     "[\"']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
     ValidateMixedKey, 80},
    {v1::GITHUB_TOKEN, "GITHUB_TOKEN",
     WORD_BOUNDED("gh[pousr]_[A-Za-z0-9]{36}[A-Za-z0-9]*|github_pat_[A-Za-z0-9_]{22}[A-Za-z0-9_]*"),
     nullptr, 255, "_", 8, {}, kWordBounds},
    {v1::GITLAB_TOKEN, "GITLAB_TOKEN", WORD_BOUNDED("glpat-[A-Za-z0-9_\\-]{20}[A-Za-z0-9_\\-]*"),
     nullptr, 80, "glpat-", 1},
    {v1::SLACK_TOKEN, "SLACK_TOKEN",
     WORD_BOUNDED("xox[abposr]-[A-Za-z0-9\\-]{10}[A-Za-z0-9\\-]*"
                  "|https://hooks\\.slack\\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
     nullptr, 255},
    {v1::STRIPE_KEY, "STRIPE_KEY",
     WORD_BOUNDED("(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10}[A-Za-z0-9]*"), nullptr, 128, {}, 0, {},
     kWordBounds},
    {v1::GOOGLE_API_KEY, "GOOGLE_API_KEY", "(?:^|[^A-Za-z0-9_\\-])(AIza[0-9A-Za-z_\\-]{35})"
     "(?:[^A-Za-z0-9_\\-]|$)", nullptr, 39, "AIza", 1, {}, kKeyBounds},
    {v1::OPENAI_API_KEY, "OPENAI_API_KEY",
     "(?:^|[^A-Za-z0-9_\\-])(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\\-]{32}[A-Za-z0-9_\\-]*)"
     "(?:[^A-Za-z0-9_\\-]|$)",
     ValidateMixedKey, 256, "sk-", 1, {}, kKeyBounds},
    {v1::JWT, "JWT",
     "(?:^|[^A-Za-z0-9_\\-])(eyJ[A-Za-z0-9_\\-]+\\.eyJ[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]*)"
     "(?:[^A-Za-z0-9_\\-]|$)",
     ValidateJwt, 1200, "eyJ", 1},
    {v1::PRIVATE_KEY, "PRIVATE_KEY", "-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----",
     nullptr, 64},
    {v1::PASSWORD_IN_URL, "PASSWORD_IN_URL",
     "[A-Za-z][A-Za-z0-9+.\\-]{1,15}://[^\\s:/@]+:([^\\s:/@]+)@[A-Za-z0-9.\\-]+", nullptr, 300,
     "://", 16},
    {v1::HIGH_ENTROPY_SECRET, "HIGH_ENTROPY_SECRET",
     "(?i)(?:api[_\\-]?key|secret|token|passw(?:or)?d|pwd|access[_\\-]?key|client[_\\-]?secret"
     "|private[_\\-]?key)[a-z0-9_\\-]{0,20}[\"']?\\s{0,3}[:=]\\s{0,3}[\"']?"
     "([A-Za-z0-9+/=_\\-.!@#$%^&*]{8})",
     ValidateEntropy, 256, {}, 0, {}, {}, IsSecretValueByte},
};

#undef WORD_BOUNDED
#undef DIGIT_BOUNDED
#undef EMAIL_DENSE
#undef EMAIL_BEFORE
#undef EMAIL_AFTER
#undef EMAIL_CONTEXT
#undef EMAIL_BODY
#undef IPV4
#undef IP_AFTER

}  // namespace

std::string EncodedPayloadPattern(uint32_t min_chars) {
  return absl::StrCat("(?:^|[^A-Za-z0-9+/=_\\-])([A-Za-z0-9+/_\\-]{", min_chars,
                      "}[A-Za-z0-9+/_\\-]*={0,2})(?:[^A-Za-z0-9+/=_\\-]|$)");
}

const DetectorSpec* FindDetector(v1::DetectorType type) {
  for (const DetectorSpec& spec : kDetectors) {
    if (spec.type == type) return &spec;
  }
  return nullptr;
}

}  // namespace warden::policies
