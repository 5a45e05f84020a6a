// Validation of policy files: every kind of error is reported with file, line and field,
// and good files load with a content-derived version.
#include "policies/policy_loader.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace warden::policies {
namespace {

// The only error of `text` (as file `name`); fails the test if there is not exactly one.
ConfigError Single(const std::string& text, const std::string& name = "p.textproto") {
  std::vector<ConfigError> errors = ValidatePolicyTexts({{name, text}});
  EXPECT_EQ(errors.size(), 1u);
  for (const ConfigError& e : errors) std::printf("  %s\n", e.ToString().c_str());
  return errors.empty() ? ConfigError{} : errors[0];
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr char kRuleHead[] = "id: \"s\"\nrules {\n  id: \"r\"\n  category: PII\n";

TEST(PolicyLoader, ReportsUnknownFieldWithLineAndColumn) {
  ConfigError e = Single("id: \"s\"\nbogus_field: 1\n");
  EXPECT_EQ(e.file, "p.textproto");
  EXPECT_EQ(e.line, 2);
  EXPECT_GT(e.column, 0);
  EXPECT_TRUE(Contains(e.message, "bogus_field")) << e.message;
}

TEST(PolicyLoader, ReportsBadRegexWithRe2ErrorAndField) {
  ConfigError e = Single(std::string(kRuleHead) +
                         "  action: FLAG\n  regex { pattern: \"a(b\" }\n}\n");
  EXPECT_EQ(e.line, 6);
  EXPECT_EQ(e.field, "rules[0].regex.pattern");
  EXPECT_TRUE(Contains(e.message, "invalid regex")) << e.message;
  EXPECT_TRUE(Contains(e.message, "missing )")) << e.message;  // RE2's own wording.
}

TEST(PolicyLoader, ReportsDuplicateRuleIds) {
  ConfigError e = Single(
      "id: \"s\"\n"
      "rules { id: \"r\" category: PII action: FLAG detector { type: EMAIL } }\n"
      "rules {\n  id: \"r\"\n  category: PII action: FLAG detector { type: PHONE } }\n");
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.field, "rules[1].id");
  EXPECT_TRUE(Contains(e.message, "duplicate rule id 'r'")) << e.message;
}

TEST(PolicyLoader, ReportsDuplicateSetIdsAcrossFiles) {
  const std::string set = "id: \"same\"\nrules { id: \"r\" category: PII action: FLAG detector { type: EMAIL } }\n";
  std::vector<ConfigError> errors = ValidatePolicyTexts({{"a.textproto", set}, {"b.textproto", set}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, "b.textproto");
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_EQ(errors[0].field, "id");
  EXPECT_TRUE(Contains(errors[0].message, "also in a.textproto")) << errors[0].message;
}

TEST(PolicyLoader, RefusesAFileWithAnEmptyName) {
  const std::string set = "id: \"s\"\nrules { id: \"r\" category: PII action: FLAG detector { type: EMAIL } }\n";
  std::vector<ConfigError> errors = ValidatePolicyTexts({{"", set}, {"ok.textproto", "id: \"t\"\n"}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, "");
  EXPECT_TRUE(Contains(errors[0].message, "empty name")) << errors[0].message;
  EXPECT_FALSE(LoadPolicyTexts({{"", set}}).ok());
}

TEST(PolicyLoader, ReportsUnknownCategoryNameAsParseError) {
  ConfigError e = Single("id: \"s\"\nrules {\n  id: \"r\"\n  category: NOT_A_CATEGORY action: FLAG\n}\n");
  EXPECT_EQ(e.line, 4);
  EXPECT_TRUE(Contains(e.message, "NOT_A_CATEGORY")) << e.message;
}

TEST(PolicyLoader, ReportsUnknownCategoryNumber) {
  std::vector<ConfigError> errors = ValidatePolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules {\n  id: \"r\"\n  category: 99\n  action: FLAG\n"
                       "  detector { type: EMAIL }\n}\n"}});
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_EQ(errors[0].field, "rules[0].category");
  EXPECT_TRUE(Contains(errors[0].message, "99 is not a warden.v1.Category value")) << errors[0].message;
}

TEST(PolicyLoader, ReportsMissingCategoryAtTheRule) {
  ConfigError e = Single("id: \"s\"\nrules {\n  id: \"r\"\n  action: FLAG\n  detector { type: EMAIL }\n}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.field, "rules[0]");
  EXPECT_TRUE(Contains(e.message, "category is required")) << e.message;
}

TEST(PolicyLoader, ReportsThresholdsOutOfRange) {
  ConfigError entropy = Single(std::string(kRuleHead) +
                               "  action: FLAG\n  detector {\n    type: HIGH_ENTROPY_SECRET\n"
                               "    min_entropy: 9\n  }\n}\n");
  EXPECT_EQ(entropy.line, 8);
  EXPECT_EQ(entropy.field, "rules[0].detector.min_entropy");
  EXPECT_TRUE(Contains(entropy.message, "out of range")) << entropy.message;

  ConfigError bytes = Single(std::string(kRuleHead) +
                             "  action: FLAG\n  max_match_bytes: 100000\n  regex { pattern: \"a+\" }\n}\n");
  EXPECT_EQ(bytes.line, 6);
  EXPECT_EQ(bytes.field, "rules[0].max_match_bytes");

  ConfigError mask = Single(std::string(kRuleHead) +
                            "  action: REDACT\n  detector { type: EMAIL }\n"
                            "  redaction { style: MASK mask_keep_last: 40 }\n}\n");
  EXPECT_EQ(mask.line, 7);
  EXPECT_EQ(mask.field, "rules[0].redaction.mask_keep_last");

  ConfigError base64 = Single(std::string(kRuleHead) +
                              "  action: FLAG\n  injection { min_base64_chars: 4 }\n}\n");
  EXPECT_EQ(base64.field, "rules[0].injection.min_base64_chars");
}

TEST(PolicyLoader, ReportsMissingAndMeaninglessActions) {
  ConfigError missing = Single(std::string(kRuleHead) + "  detector { type: EMAIL }\n}\n");
  EXPECT_TRUE(Contains(missing.message, "action is required")) << missing.message;
  ConfigError allow = Single(std::string(kRuleHead) + "  action: ALLOW\n  detector { type: EMAIL }\n}\n");
  EXPECT_EQ(allow.line, 5);
  EXPECT_EQ(allow.field, "rules[0].action");
}

// Proto3 text format takes any number for an enum; a rule's action 5 would rank above
// BLOCK wherever actions are compared.
TEST(PolicyLoader, ReportsEnumNumbersTheirEnumDoesNotName) {
  std::vector<ConfigError> errors = ValidatePolicyTexts(
      {{"p.textproto", std::string(kRuleHead) + "  action: 5\n  detector { type: EMAIL }\n}\n"}});
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_EQ(errors[0].field, "rules[0].action");
  EXPECT_TRUE(Contains(errors[0].message, "5 is not a warden.v1.Action")) << errors[0].message;
  ConfigError detector = Single(std::string(kRuleHead) + "  action: FLAG\n  detector { type: 77 }\n}\n");
  EXPECT_EQ(detector.field, "rules[0].detector.type");
  EXPECT_TRUE(Contains(detector.message, "77 is not a")) << detector.message;
}

TEST(PolicyLoader, ReportsRuleWithoutKindAndUnsetDetector) {
  ConfigError kind = Single(std::string(kRuleHead) + "  action: FLAG\n}\n");
  EXPECT_TRUE(Contains(kind.message, "one of regex, term_list, detector or injection")) << kind.message;
  ConfigError detector = Single(std::string(kRuleHead) + "  action: FLAG\n  detector { min_entropy: 2 }\n}\n");
  EXPECT_EQ(detector.field, "rules[0].detector.type");
  EXPECT_TRUE(Contains(detector.message, "detector type is required")) << detector.message;
}

TEST(PolicyLoader, ReportsMissingTermFile) {
  ConfigError e = Single(std::string(kRuleHead) +
                         "  action: BLOCK\n  term_list {\n    file: \"no_such_terms.txt\"\n  }\n}\n",
                         "dir/p.textproto");
  EXPECT_EQ(e.file, "dir/p.textproto");
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "rules[0].term_list.file");
  EXPECT_TRUE(Contains(e.message, "dir/no_such_terms.txt")) << e.message;
}

TEST(PolicyLoader, ReportsATermFileThatIsADirectory) {
  const std::string dir = ::testing::TempDir() + "/terms_dir";
  std::filesystem::create_directories(dir);
  ConfigError e = Single(std::string(kRuleHead) + "  action: BLOCK\n  term_list {\n    file: \"" + dir + "\"\n  }\n}\n");
  EXPECT_EQ(e.field, "rules[0].term_list.file");
  EXPECT_TRUE(Contains(e.message, "it is a directory")) << e.message;
}

TEST(PolicyLoader, ReportsKeyedHashWithoutKey) {
  ConfigError e = Single(std::string(kRuleHead) +
                         "  action: REDACT\n  detector { type: EMAIL }\n  redaction { style: KEYED_HASH }\n}\n");
  EXPECT_EQ(e.line, 7);
  EXPECT_EQ(e.field, "rules[0].redaction");
  EXPECT_TRUE(Contains(e.message, "hash_key")) << e.message;
}

TEST(PolicyLoader, ReportsBadAllowPatternAndMissingSetId) {
  ConfigError allow = Single(std::string(kRuleHead) +
                             "  action: FLAG\n  detector { type: EMAIL }\n"
                             "  allow { patterns: \"[a-\" }\n}\n");
  EXPECT_EQ(allow.field, "rules[0].allow.patterns[0]");
  EXPECT_TRUE(Contains(allow.message, "invalid regex")) << allow.message;
  ConfigError id = Single("description: \"no id\"\n");
  EXPECT_EQ(id.field, "id");
  EXPECT_TRUE(Contains(id.message, "policy set id is required")) << id.message;
}

TEST(PolicyLoader, ReportsJsonErrorsWithFileName) {
  ConfigError e = Single("{\"id\": \"s\", \"bogus\": 1}", "p.json");
  EXPECT_EQ(e.file, "p.json");
  EXPECT_FALSE(e.message.empty());
}

TEST(PolicyLoader, AcceptsJson) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.json", R"({"id": "j", "rules": [{"id": "e", "category": "PII", "action": "REDACT",
                      "detector": {"type": "EMAIL"}}]})"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  absl::StatusOr<ScanResult> result = (*loaded)->Scan({"j"}, v1::INPUT, "to a@b.io");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->redacted_text, "to [EMAIL]");
}

// Editors on Windows save UTF-8 with a byte-order mark (and CRLF line ends): the file
// means the same, and errors keep their lines.
TEST(PolicyLoader, AcceptsAByteOrderMark) {
  const std::string bom = "\xEF\xBB\xBF";
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"p.textproto", bom + "id: \"b\"\r\nrules { id: \"e\" category: PII action: REDACT detector { type: EMAIL } }\r\n"},
           {"p.json", bom + R"({"id": "b", "rules": [{"id": "e", "category": "PII", "action": "REDACT",
                                "detector": {"type": "EMAIL"}}]})"}}) {
    absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts({{name, text}});
    ASSERT_TRUE(loaded.ok()) << name << ": " << loaded.status();
    absl::StatusOr<ScanResult> result = (*loaded)->Scan({"b"}, v1::INPUT, "to a@b.io");
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->redacted_text, "to [EMAIL]") << name;
  }
  ConfigError e = Single(bom + "id: \"b\"\nbogus_field: 1\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_TRUE(Contains(e.message, "bogus_field")) << e.message;
}

TEST(PolicyLoader, StatusListsEveryErrorWithLocation) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", std::string(kRuleHead) + "  action: FLAG\n  regex { pattern: \"(\" }\n}\n"
                                                "rules { id: \"r\" category: PII action: FLAG detector { type: EMAIL } }\n"}});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(loaded.status().message());
  EXPECT_TRUE(Contains(message, "p.textproto:6:")) << message;
  EXPECT_TRUE(Contains(message, "rules[0].regex.pattern")) << message;
  EXPECT_TRUE(Contains(message, "p.textproto:8:")) << message;
  EXPECT_TRUE(Contains(message, "rules[1].id: duplicate rule id")) << message;
}

TEST(PolicyLoader, ReportsUnreadableFile) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded =
      LoadPolicyFiles({"/nonexistent/policy.textproto"});
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(Contains(std::string(loaded.status().message()), "/nonexistent/policy.textproto"));
}

TEST(PolicyLoader, ReportsADirectory) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyFiles({dir});
  ASSERT_FALSE(loaded.ok());
  const std::string message(loaded.status().message());
  EXPECT_TRUE(Contains(message, dir + ": is a directory, not a policy file")) << message;
  EXPECT_FALSE(Contains(message, "policy set id is required")) << message;
}

TEST(PolicyLoader, LoadsTheDefaultSetsWithAStableContentVersion) {
  const std::vector<std::string> files = {
      "policies/default/pii.textproto", "policies/default/secrets.textproto",
      "policies/default/injection.textproto", "policies/default/blocklist.textproto"};
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> a = LoadPolicyFiles(files);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> b =
      LoadPolicyFiles({files[3], files[2], files[1], files[0]});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*a)->version(), (*b)->version());
  EXPECT_EQ((*a)->version().size(), 16u);
  EXPECT_EQ((*a)->ListSets(), (std::vector<std::string>{"default-blocklist", "default-injection",
                                                        "default-pii", "default-secrets"}));
  absl::StatusOr<std::string> text = (*a)->GetSetTextProto("default-pii");
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(Contains(*text, "pii.email"));
  EXPECT_EQ((*a)->GetSetTextProto("nope").status().code(), absl::StatusCode::kNotFound);

  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> fewer =
      LoadPolicyFiles({files[0], files[1]});
  ASSERT_TRUE(fewer.ok());
  EXPECT_NE((*fewer)->version(), (*a)->version());

  const std::vector<std::string> sets = {"default-pii", "default-secrets", "default-injection",
                                         "default-blocklist"};
  absl::StatusOr<ScanResult> blocked = (*a)->Scan(sets, v1::INPUT, "what the fiddl3sticks");
  ASSERT_TRUE(blocked.ok());
  EXPECT_EQ(blocked->action, v1::BLOCK);
  EXPECT_EQ(blocked->block_message, "The text uses a term this app does not allow.");
}

TEST(PolicyLoader, ShadowRulesAreRecordedButNotEnforced) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto",
        "id: \"s\"\n"
        "rules { id: \"dry\" shadow: true category: PII action: BLOCK detector { type: EMAIL } }\n"
        "rules { id: \"ip\" category: PII action: REDACT detector { type: IP_ADDRESS } }\n"},
       {"q.textproto",
        "id: \"t\" shadow: true\n"
        "rules { id: \"all\" category: PII action: REDACT detector { type: IP_ADDRESS } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  absl::StatusOr<ScanResult> result = (*loaded)->Scan({"s", "t"}, v1::OUTPUT, "a@b.io 10.0.0.1");
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->matches.size(), 3u);
  EXPECT_TRUE(result->matches[0].shadow());   // dry (email)
  EXPECT_FALSE(result->matches[1].shadow());  // ip in s
  EXPECT_TRUE(result->matches[2].shadow());   // ip in shadow set t
  EXPECT_EQ(result->action, v1::REDACT);
  EXPECT_EQ(result->redacted_text, "a@b.io [IP_ADDRESS]");
}

TEST(PolicyLoader, AllowListExceptionsDropFindings) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto",
        "id: \"s\"\nrules { id: \"e\" category: PII action: REDACT detector { type: EMAIL }\n"
        "  allow { literals: \"Support@Example.com\" patterns: \".*@corp\\\\.example\" } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  absl::StatusOr<ScanResult> result =
      (*loaded)->Scan({"s"}, v1::INPUT, "support@example.com, bob@corp.example, eve@evil.io");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->redacted_text, "support@example.com, bob@corp.example, [EMAIL]");
}

TEST(PolicyLoader, DirectionsLimitWhereARuleRuns) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules { id: \"e\" category: PII action: REDACT directions: OUTPUT\n"
                       "  detector { type: EMAIL } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Scan({"s"}, v1::INPUT, "a@b.io")->action, v1::ALLOW);
  EXPECT_EQ((*loaded)->Scan({"s"}, v1::OUTPUT, "a@b.io")->action, v1::REDACT);
  EXPECT_EQ((*loaded)->Scan({"s"}, v1::DIRECTION_UNSPECIFIED, "a").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*loaded)->Scan({"x"}, v1::INPUT, "a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*loaded)->Scan({"s"}, v1::INPUT, "bad \xFF utf8").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Terms are folded as the text is before their end punctuation is dropped: "a$$" is the
// word "ass" (in any spelling), never the word "a".
TEST(PolicyLoader, LeetspeakSymbolsInTermsAreLettersNotPunctuation) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules { id: \"t\" category: BLOCKLIST action: BLOCK\n"
                       "  term_list { terms: \"a$$\" terms: \"$hit\" terms: \"bad!\" } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::vector<std::string> sets = {"s"};
  for (const char* clean : {"a cat sat on a mat", "I hit it", "a $ sign", "badge"}) {
    EXPECT_EQ((*loaded)->Scan(sets, v1::INPUT, clean)->action, v1::ALLOW) << clean;
  }
  for (const char* hit : {"you a$$", "what an ass", "A55 hole", "oh $hit", "oh shit", "so bad"}) {
    EXPECT_EQ((*loaded)->Scan(sets, v1::INPUT, hit)->action, v1::BLOCK) << hit;
  }
}

// Spaced-out letters with leetspeak digits among them are the word too.
TEST(PolicyLoader, SpacedLettersWithLeetspeakDigitsMatchTerms) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules { id: \"t\" category: BLOCKLIST action: BLOCK\n"
                       "  term_list { terms: \"fiddlesticks\" } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::vector<std::string> sets = {"s"};
  for (const char* hit : {"f i d d l e s t i c k s", "f 1 d d l 3 5 t 1 c k 5", "f-1-d-d-l-e-s-t-i-c-k-s",
                          "F1ddl3st1cks"}) {
    EXPECT_EQ((*loaded)->Scan(sets, v1::INPUT, hit)->action, v1::BLOCK) << hit;
  }
  EXPECT_EQ((*loaded)->Scan(sets, v1::INPUT, "fiddle 5 ticks")->action, v1::ALLOW);
  EXPECT_EQ((*loaded)->Scan(sets, v1::INPUT, "f i d d l e s t i c k 5")->action, v1::BLOCK);
}

// Texts a client sends may name term files only inside the allowed folders, however the
// path is spelled ("..", absolute, a link out).
TEST(PolicyLoader, TermFilesOutsideTheAllowedFoldersAreErrors) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string root = std::string(tmp != nullptr ? tmp : "/tmp") + "/term_folders";
  std::filesystem::create_directories(root + "/policies");
  std::filesystem::create_directories(root + "/elsewhere");
  std::ofstream(root + "/policies/terms.txt") << "zorb\n";
  std::ofstream(root + "/elsewhere/secret.txt") << "zorb\n";
  std::error_code ignored;
  std::filesystem::remove(root + "/policies/link.txt", ignored);
  std::filesystem::create_symlink(root + "/elsewhere/secret.txt", root + "/policies/link.txt", ignored);
  const auto rule = [](const std::string& file) {
    return "id: \"s\"\nrules { id: \"t\" category: BLOCKLIST action: FLAG term_list { file: \"" + file + "\" } }\n";
  };
  const std::vector<std::string> allowed = {root + "/policies"};
  const std::string name = root + "/policies/sent.textproto";
  EXPECT_TRUE(TermFilesOutside({{name, rule("terms.txt")}}, allowed).empty());
  EXPECT_TRUE(TermFilesOutside({{name, rule(root + "/policies/terms.txt")}}, allowed).empty());
  for (const std::string& outside :
       {std::string("../elsewhere/secret.txt"), root + "/elsewhere/secret.txt", std::string("/etc/passwd"),
        std::string("link.txt")}) {
    const std::vector<ConfigError> errors = TermFilesOutside({{name, rule(outside)}}, allowed);
    ASSERT_EQ(errors.size(), 1u) << outside;
    EXPECT_EQ(errors[0].field, "rules[0].term_list.file") << outside;
  }
  // A name relative to another folder cannot reach in or out by its own spelling.
  EXPECT_EQ(TermFilesOutside({{"/tmp/x.textproto", rule("terms.txt")}}, allowed).size(), 1u);
}

TEST(PolicyLoader, TermListFileWithThousandsOfTermsMatchesWholeWords) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/many_terms.txt";
  {
    std::ofstream out(path);
    out << "# generated\n";
    for (int i = 0; i < 5000; ++i) out << "zorb" << i * 7919 % 100003 << "qua\n";
    out << "final phrase here\n";
  }
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules { id: \"t\" category: BLOCKLIST action: FLAG\n"
                       "  term_list { file: \"" + path + "\" } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::vector<std::string> sets = {"s"};
  absl::StatusOr<ScanResult> hit =
      (*loaded)->Scan(sets, v1::INPUT, "a ZORB" + std::to_string(4999 * 7919 % 100003) + "QUA b");
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->action, v1::FLAG);
  absl::StatusOr<ScanResult> phrase = (*loaded)->Scan(sets, v1::INPUT, "the Final  Phrase here.");
  ASSERT_TRUE(phrase.ok());
  ASSERT_EQ(phrase->matches.size(), 1u);
  EXPECT_EQ(phrase->matches[0].span().begin(), 4u);
  EXPECT_EQ(phrase->matches[0].span().end(), 22u);
  absl::StatusOr<ScanResult> miss =
      (*loaded)->Scan(sets, v1::INPUT, "xzorb" + std::to_string(7919) + "qua zorb7919quax");
  ASSERT_TRUE(miss.ok());
  EXPECT_EQ(miss->action, v1::ALLOW);
}

// F8: a pattern that can match the empty string never gives a finding where it does
// (findings are never empty; leftmost-first takes "(?:)" before "secret"), so it is refused
// at its line, for every way of matching "" (also only at some positions: \b, (?m)^).
TEST(PolicyLoader, RegexThatMatchesTheEmptyStringIsAnError) {
  for (const char* pattern : {"(?:)|secret", "^", "\\\\b", "x*", "a?", "\\\\bfoo|", "(?m)^", "$",
                              "(?:secret)?", "\\\\B"}) {
    ConfigError e = Single(std::string(kRuleHead) + "  action: FLAG\n  regex { pattern: \"" +
                           pattern + "\" }\n}\n");
    EXPECT_EQ(e.file, "p.textproto") << pattern;
    EXPECT_EQ(e.line, 6) << pattern;
    EXPECT_GT(e.column, 0) << pattern;
    EXPECT_EQ(e.field, "rules[0].regex.pattern") << pattern;
    EXPECT_TRUE(Contains(e.message, "the pattern matches the empty string")) << e.message;
  }
  // case_insensitive adds "(?i)": still checked.
  ConfigError folded = Single(std::string(kRuleHead) +
                              "  action: FLAG\n  regex { pattern: \"s?\" case_insensitive: true }\n}\n");
  EXPECT_EQ(folded.field, "rules[0].regex.pattern");
  // A pattern that needs a character loads and fires.
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", std::string(kRuleHead) +
                           "  action: REDACT\n  regex { pattern: \"\\\\bsecret\\\\b|x+\" }\n}\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Scan({"s"}, v1::INPUT, "a secret xx")->redacted_text, "a [CUSTOM] [CUSTOM]");
}

// The same holds for injection phrases: one of only [optional] words matches "" (and would
// shadow the phrases after it in the alternation). Allow patterns must match a whole
// finding, which is never empty, so ".*" and "x*" there are meaningful; only "" is refused.
TEST(PolicyLoader, EmptyMatchingPhrasesAndEmptyAllowPatternsAreErrors) {
  ConfigError phrase = Single(std::string(kRuleHead) +
                              "  action: FLAG\n  injection {\n    extra_phrases: \"hello world\"\n"
                              "    extra_phrases: \"[all|any]\"\n  }\n}\n");
  EXPECT_EQ(phrase.line, 8);
  EXPECT_EQ(phrase.field, "rules[0].injection.extra_phrases[1]");
  EXPECT_TRUE(Contains(phrase.message, "no required word")) << phrase.message;

  ConfigError allow = Single(std::string(kRuleHead) +
                             "  action: FLAG\n  detector { type: EMAIL }\n"
                             "  allow { patterns: \".*@corp\\\\.example\" patterns: \"\" }\n}\n");
  EXPECT_EQ(allow.field, "rules[0].allow.patterns[1]");
  EXPECT_TRUE(Contains(allow.message, "allows nothing")) << allow.message;

  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", std::string(kRuleHead) +
                           "  action: REDACT\n  detector { type: EMAIL }\n"
                           "  allow { patterns: \"[a-z]*@corp\\\\.example\" }\n}\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->Scan({"s"}, v1::INPUT, "bob@corp.example eve@evil.io")->redacted_text,
            "bob@corp.example [EMAIL]");
}

// F9: dropping a term's end punctuation must not turn it into one letter. A masked term is
// refused with the reason, inline (at the term's line and column) and in a term file (at
// its line); "x!" is told to write "x"; a term of only punctuation has no letter.
TEST(PolicyLoader, TermsThatWouldBecomeOneLetterAreErrors) {
  const std::string head = "id: \"s\"\nrules {\n  id: \"t\"\n  category: BLOCKLIST\n  action: BLOCK\n";
  ConfigError masked = Single(head + "  term_list {\n    terms: \"darn\"\n    terms: \"f***\"\n  }\n}\n");
  EXPECT_EQ(masked.line, 8);
  EXPECT_GT(masked.column, 0);
  EXPECT_EQ(masked.field, "rules[0].term_list.terms[1]");
  EXPECT_TRUE(Contains(masked.message, "term 'f***' is masked")) << masked.message;
  EXPECT_TRUE(Contains(masked.message, "single letter 'f'")) << masked.message;
  EXPECT_TRUE(Contains(masked.message, "write the whole word")) << masked.message;

  ConfigError bang = Single(head + "  term_list { terms: \"x!\" }\n}\n");
  EXPECT_EQ(bang.field, "rules[0].term_list.terms[0]");
  EXPECT_TRUE(Contains(bang.message, "single character 'x'")) << bang.message;
  ConfigError none = Single(head + "  term_list { terms: \"?!\" }\n}\n");
  EXPECT_TRUE(Contains(none.message, "term '?!' has no letter or digit")) << none.message;

  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/masked_terms.txt";
  std::ofstream(path) << "# masked words\ndagnabbit\n  **F***  # oops\ns.o.b.\n";
  ConfigError file = Single(head + "  term_list { file: \"" + path + "\" }\n}\n");
  EXPECT_EQ(file.file, path);
  EXPECT_EQ(file.line, 3);
  EXPECT_EQ(file.column, 3);
  EXPECT_TRUE(Contains(file.message, "term '**F***' is masked")) << file.message;
}

// Punctuation that belongs to a name ("c++", "c#") keeps such a term as written: it is
// found only with its symbols, between non-word characters, never as the letter alone.
// Inner punctuation ("s.o.b.") stays, as it always did.
TEST(PolicyLoader, TermsWithMeaningfulPunctuationMatchAsWritten) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules { id: \"t\" category: BLOCKLIST action: REDACT\n"
                       "  term_list { terms: \"c++\" terms: \"C#\" terms: \"s.o.b.\" terms: \"fiddlesticks!\" } }\n"}});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const std::vector<std::string> sets = {"s"};
  for (const char* clean : {"c", "a c b", "plain c code", "abc++", "c++x", "c+", "cc++", "#c", "400\u00b0F",
                            "sob", "s o b"}) {
    absl::StatusOr<ScanResult> result = (*loaded)->Scan(sets, v1::INPUT, clean);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->action, v1::ALLOW) << clean;
  }
  const std::vector<std::pair<std::string, std::string>> hits = {
      {"I like C++.", "I like [BLOCKLIST]."},
      {"we use c++", "we use [BLOCKLIST]"},
      {"c++ and C# or c#!", "[BLOCKLIST] and [BLOCKLIST] or [BLOCKLIST]!"},
      {"(c++)", "([BLOCKLIST])"},
      {"you s.o.b.", "you [BLOCKLIST]."},
      {"fiddlesticks", "[BLOCKLIST]"}};
  for (const auto& [text, redacted] : hits) {
    absl::StatusOr<ScanResult> result = (*loaded)->Scan(sets, v1::INPUT, text);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->redacted_text, redacted) << text;
  }

  // In a term file '#' starts a comment only at the start of a line or after whitespace,
  // so "c#" there is the term "c#" (not "c").
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/symbol_terms.txt";
  std::ofstream(path) << "# languages\nc#  # the language\nf#\n";
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> from_file = LoadPolicyTexts(
      {{"p.textproto", "id: \"s\"\nrules { id: \"t\" category: BLOCKLIST action: REDACT\n"
                       "  term_list { file: \"" + path + "\" } }\n"}});
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ((*from_file)->Scan(sets, v1::INPUT, "c or f")->action, v1::ALLOW);
  EXPECT_EQ((*from_file)->Scan(sets, v1::INPUT, "C# or F#")->redacted_text, "[BLOCKLIST] or [BLOCKLIST]");
}

// F11: a term list too large for RE2 is reported once (not once per direction), at the
// rule, with its size and the limit; the set's other, small rules are not blamed.
TEST(PolicyLoader, OversizedTermListNamesTheRuleAndTheLimitOnce) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/huge_terms.txt";
  // About 940,000 RE2 instructions, over the 64 MiB limit from about 19,000 such terms
  // (or 100,000 of ten letters, slower to load).
  constexpr int kTerms = 25000;
  {
    std::ofstream out(path);
    uint64_t state = 1;
    for (int i = 0; i < kTerms; ++i) {
      std::string term(40, 'a');
      for (char& c : term) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        c = static_cast<char>('a' + (state >> 33) % 26);
      }
      out << term << "\n";
    }
  }
  std::vector<ConfigError> errors = ValidatePolicyTexts(
      {{"p.textproto", "id: \"s\"\n"
                       "rules { id: \"small\" category: BLOCKLIST action: FLAG term_list { terms: \"darn\" } }\n"
                       "rules {\n  id: \"huge\"\n  category: BLOCKLIST\n  action: BLOCK\n"
                       "  term_list { file: \"" + path + "\" }\n}\n"
                       "rules { id: \"re\" category: PII action: FLAG regex { pattern: \"zz+\" view: FOLDED } }\n"}});
  for (const ConfigError& e : errors) std::printf("  %s\n", e.ToString().c_str());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, "p.textproto");
  EXPECT_EQ(errors[0].line, 7);
  EXPECT_EQ(errors[0].field, "rules[1].term_list");
  EXPECT_TRUE(Contains(errors[0].message, "the term list (25000 terms) is too large")) << errors[0].message;
  EXPECT_TRUE(Contains(errors[0].message, "64 MiB")) << errors[0].message;
  EXPECT_FALSE(Contains(errors[0].message, "patterns too large to compile together")) << errors[0].message;
}

}  // namespace
}  // namespace warden::policies
