// The streamed result (released text concatenated, findings, action) equals the unary
// Scan for every detector case split at every byte position and at a few 3-way splits.
#include "policies/stream_scanner.h"

#include <algorithm>
#include <random>

#include "gtest/gtest.h"
#include "policies/policy_loader.h"
#include "tests/policies/detector_cases.h"

namespace warden::policies {
namespace {

struct Streamed {
  std::string released;
  std::vector<v1::RuleMatch> matches;
  v1::Action action = v1::ALLOW;
  std::string block_message;
};

std::string Describe(const std::vector<v1::RuleMatch>& matches) {
  std::string out;
  for (const v1::RuleMatch& m : matches) {
    out += m.rule_id() + "/" + m.entity_type() + "[" + std::to_string(m.span().begin()) + "," +
           std::to_string(m.span().end()) + ") ";
  }
  return out;
}

absl::StatusOr<Streamed> Stream(std::shared_ptr<const CompiledPolicies> policies,
                                v1::Direction direction, const std::vector<std::string>& chunks) {
  absl::StatusOr<std::unique_ptr<StreamScanner>> scanner =
      StreamScanner::Create(policies, {"all"}, direction);
  if (!scanner.ok()) return scanner.status();
  Streamed out;
  auto take = [&out](const StreamUpdate& u) {
    out.released += u.released;
    out.matches.insert(out.matches.end(), u.matches.begin(), u.matches.end());
    out.action = u.action;
    out.block_message = u.block_message;
  };
  for (const std::string& chunk : chunks) {
    absl::StatusOr<StreamUpdate> update = (*scanner)->Push(chunk);
    if (!update.ok()) return update.status();
    take(*update);
  }
  absl::StatusOr<StreamUpdate> last = (*scanner)->Finish();
  if (!last.ok()) return last.status();
  take(*last);
  return out;
}

void ExpectSame(const ScanResult& unary, const Streamed& streamed) {
  EXPECT_EQ(Describe(streamed.matches), Describe(unary.matches));
  EXPECT_EQ(streamed.action, unary.action);
  if (unary.action == v1::BLOCK) {
    EXPECT_EQ(streamed.block_message, unary.block_message);
  } else {
    EXPECT_EQ(streamed.released, unary.redacted_text);
  }
}

std::shared_ptr<const CompiledPolicies> LoadAll() {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded =
      LoadPolicyFiles({testing::kAllDetectorsPolicy});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? *loaded : nullptr;
}

TEST(StreamScanner, MatchesUnaryScanAtEveryTwoWaySplit) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::vector<testing::DetectorCase> cases = testing::LoadDetectorCases();
  ASSERT_GT(cases.size(), 50u);
  for (const testing::DetectorCase& c : cases) {
    absl::StatusOr<ScanResult> unary = policies->Scan({"all"}, v1::OUTPUT, c.text);
    ASSERT_TRUE(unary.ok()) << unary.status();
    for (size_t split = 0; split <= c.text.size(); ++split) {
      SCOPED_TRACE(c.name + " split at " + std::to_string(split));
      absl::StatusOr<Streamed> streamed =
          Stream(policies, v1::OUTPUT, {c.text.substr(0, split), c.text.substr(split)});
      ASSERT_TRUE(streamed.ok()) << streamed.status();
      ExpectSame(*unary, *streamed);
    }
  }
}

TEST(StreamScanner, MatchesUnaryScanAtThreeWaySplitsAndByteByByte) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  for (const testing::DetectorCase& c : testing::LoadDetectorCases()) {
    absl::StatusOr<ScanResult> unary = policies->Scan({"all"}, v1::OUTPUT, c.text);
    ASSERT_TRUE(unary.ok());
    const size_t n = c.text.size();
    for (auto [a, b] : {std::pair<size_t, size_t>{n / 3, 2 * n / 3}, {1, n - 1}, {n / 2, n / 2 + 1}}) {
      SCOPED_TRACE(c.name + " 3-way split " + std::to_string(a) + "," + std::to_string(b));
      absl::StatusOr<Streamed> streamed = Stream(
          policies, v1::OUTPUT, {c.text.substr(0, a), c.text.substr(a, b - a), c.text.substr(b)});
      ASSERT_TRUE(streamed.ok()) << streamed.status();
      ExpectSame(*unary, *streamed);
    }
    std::vector<std::string> bytes;
    for (char ch : c.text) bytes.emplace_back(1, ch);
    SCOPED_TRACE(c.name + " byte by byte");
    absl::StatusOr<Streamed> streamed = Stream(policies, v1::OUTPUT, bytes);
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    ExpectSame(*unary, *streamed);
  }
}

TEST(StreamScanner, MatchesUnaryScanOnALongStreamOfAllCases) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  // Every case text three times, non-blocking ones only, so the window is trimmed many
  // times while findings keep arriving.
  std::string text;
  for (int round = 0; round < 3; ++round) {
    for (const testing::DetectorCase& c : testing::LoadDetectorCases()) {
      absl::StatusOr<ScanResult> alone = policies->Scan({"all"}, v1::OUTPUT, c.text);
      ASSERT_TRUE(alone.ok());
      if (alone->action == v1::BLOCK) continue;
      text += c.text + (round == 1 ? "\n" : " filler words here. ");
    }
  }
  ASSERT_GT(text.size(), 8000u);
  absl::StatusOr<ScanResult> unary = policies->Scan({"all"}, v1::OUTPUT, text);
  ASSERT_TRUE(unary.ok());
  ASSERT_EQ(unary->action, v1::REDACT);
  for (size_t chunk : {1u, 7u, 64u, 333u, 4096u}) {
    SCOPED_TRACE("chunk size " + std::to_string(chunk));
    std::vector<std::string> chunks;
    for (size_t at = 0; at < text.size(); at += chunk) chunks.push_back(text.substr(at, chunk));
    absl::StatusOr<Streamed> streamed = Stream(policies, v1::OUTPUT, chunks);
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    ExpectSame(*unary, *streamed);
  }
}

std::shared_ptr<const CompiledPolicies> LoadRegexRedaction(const std::string& pattern) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> loaded = LoadPolicyTexts(
      {{"p.textproto", "id: \"all\" rules { id: \"r\" category: SECRETS action: REDACT regex { pattern: \"" +
                           pattern + "\" } }"}});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? *loaded : nullptr;
}

// Matches back to back (a fixed-length pattern over a longer run): a later window must
// resume each pattern's search where the whole-text search would, not at the window's
// start, or the matches re-align and bytes between them are released unredacted.
TEST(StreamScanner, MatchesUnaryScanForBackToBackMatches) {
  std::mt19937 rng(11);
  for (const std::string pattern :
       {"[0-9a-f]{32}", "[A-Za-z0-9]{20,40}", "\\\\b[a-z]{3,5}", "k=([a-j0-9]{4,9})", "(?:ab|b)[a-c]{2,6}"}) {
    std::shared_ptr<const CompiledPolicies> policies = LoadRegexRedaction(pattern);
    ASSERT_NE(policies, nullptr);
    std::vector<std::string> texts;
    std::string hex = "hash: ";
    for (int i = 0; i < 16; ++i) hex += "0123456789abcdef";
    texts.push_back(hex + " end");
    for (int t = 0; t < 40; ++t) {
      const char* alphabet = "abcdefghij0123456789k=ABCxyz ";
      std::string text;
      const size_t length = 50 + rng() % 700;
      for (size_t i = 0; i < length; ++i) text += alphabet[rng() % (t % 2 == 0 ? 28 : 29)];
      texts.push_back(text);
    }
    for (const std::string& text : texts) {
      absl::StatusOr<ScanResult> unary = policies->Scan({"all"}, v1::OUTPUT, text);
      ASSERT_TRUE(unary.ok()) << unary.status();
      for (size_t chunk : {1u, 5u, 16u, 37u, 100u}) {
        SCOPED_TRACE(pattern + " chunk " + std::to_string(chunk) + " text " + text);
        std::vector<std::string> chunks;
        for (size_t at = 0; at < text.size(); at += chunk) chunks.push_back(text.substr(at, chunk));
        absl::StatusOr<Streamed> streamed = Stream(policies, v1::OUTPUT, chunks);
        ASSERT_TRUE(streamed.ok()) << streamed.status();
        ExpectSame(*unary, *streamed);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(StreamScanner, HoldsBackOnlyTheTailOfALongStream) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  absl::StatusOr<std::unique_ptr<StreamScanner>> scanner =
      StreamScanner::Create(policies, {"all"}, v1::OUTPUT);
  ASSERT_TRUE(scanner.ok());
  absl::StatusOr<size_t> holdback = policies->HoldBackBytes({"all"}, v1::OUTPUT);
  ASSERT_TRUE(holdback.ok());
  std::string released;
  std::string sent;
  for (int i = 0; i < 400; ++i) {
    const std::string chunk = "word" + std::to_string(i) + " and some plain text; ";
    sent += chunk;
    absl::StatusOr<StreamUpdate> update = (*scanner)->Push(chunk);
    ASSERT_TRUE(update.ok());
    released += update->released;
  }
  EXPECT_GT(released.size(), 0u);
  EXPECT_LE((*scanner)->held_bytes(), *holdback + (*scanner)->scan_step_bytes() + 64);
  EXPECT_EQ(sent.substr(0, released.size()), released);
  absl::StatusOr<StreamUpdate> last = (*scanner)->Finish();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(released + last->released, sent);
}

TEST(StreamScanner, ReportsBlockBeforeTheStreamEnds) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  absl::StatusOr<std::unique_ptr<StreamScanner>> scanner =
      StreamScanner::Create(policies, {"all"}, v1::OUTPUT);
  ASSERT_TRUE(scanner.ok());
  absl::StatusOr<StreamUpdate> first = (*scanner)->Push("oh well, da");
  ASSERT_TRUE(first.ok());
  EXPECT_NE(first->action, v1::BLOCK);
  absl::StatusOr<size_t> holdback = policies->HoldBackBytes({"all"}, v1::OUTPUT);
  ASSERT_TRUE(holdback.ok());
  // Enough text after the term that a scan runs and settles it without waiting for the end.
  absl::StatusOr<StreamUpdate> second = (*scanner)->Push(
      "rn it. " + std::string(*holdback + (*scanner)->scan_step_bytes() + 16, 'x') + " ");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->action, v1::BLOCK);
  EXPECT_EQ(second->released, "");
  ASSERT_EQ(second->matches.size(), 1u);
  EXPECT_EQ(second->matches[0].span().begin(), 9u);
  EXPECT_EQ(second->matches[0].span().end(), 13u);
}

// Random characters of `alphabet`, deterministic.
std::string RandomRun(size_t n, std::string_view alphabet, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out;
  for (size_t i = 0; i < n; ++i) out += alphabet[rng() % alphabet.size()];
  return out;
}

std::vector<std::string> Chunks(const std::string& text, size_t size) {
  std::vector<std::string> chunks;
  for (size_t i = 0; i < text.size(); i += size) chunks.push_back(text.substr(i, size));
  return chunks;
}

constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Findings longer than their rule's bound inside one token (a 2 KB JWT: Entra ID and Okta
// tokens are 1-3 KB; a 3 KB key after "api_key=") were dropped by the stream and released
// in clear, where the unary scan redacts them: the stream now holds a growing token whole.
TEST(StreamScanner, SecretsLongerThanTheirBoundAreRedactedWholeWhenStreamed) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::string jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + RandomRun(1800, kBase64Url, 1) + "." +
                          RandomRun(342, kBase64Url, 2);
  const std::string key = RandomRun(3000, kBase64Url, 3);
  std::string prose;
  while (prose.size() < 3000) prose += "The quarterly report is due on Friday; please review it. ";
  const std::string text = prose + "Your token is " + jwt + " and keep it safe. " + prose +
                           "config api_key=" + key + " end of config. " + prose;
  absl::StatusOr<ScanResult> unary = policies->Scan({"all"}, v1::OUTPUT, text);
  ASSERT_TRUE(unary.ok()) << unary.status();
  ASSERT_EQ(unary->redacted_text.find(jwt.substr(1000, 40)), std::string::npos);
  ASSERT_EQ(unary->redacted_text.find(key.substr(2000, 40)), std::string::npos);
  for (const size_t chunk : {7u, 64u, 1000u}) {
    absl::StatusOr<Streamed> streamed = Stream(policies, v1::OUTPUT, Chunks(text, chunk));
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    ExpectSame(*unary, *streamed);
    for (const size_t at : {0u, 900u, 2100u}) {
      EXPECT_EQ(streamed->released.find(jwt.substr(at, 40)), std::string::npos) << at;
      EXPECT_EQ(streamed->released.find(key.substr(at, 40)), std::string::npos) << at;
    }
  }
}

// A secret right after a multi-byte character (typographic quotes, which models write all
// the time, an arrow, «») was missed, unary and streamed: the anchored search began inside
// that character. Found and redacted in both.
TEST(StreamScanner, SecretsAfterAMultiByteCharacterAreFound) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::string key = "sk-proj-" + RandomRun(48, kBase64Url, 5);
  const std::string jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + RandomRun(43, kBase64Url, 6);
  for (const std::string& secret : {key, jwt, std::string("https://example.com/reset?token=abc")}) {
    for (const char* before : {"\xE2\x80\x9C", "\xE2\x86\x92", "\xC2\xAB", "\xC3\xA9"}) {
      const std::string text = std::string("Here: ") + before + secret + "\xE2\x80\x9D and more text.";
      absl::StatusOr<ScanResult> unary = policies->Scan({"all"}, v1::OUTPUT, text);
      ASSERT_TRUE(unary.ok()) << unary.status();
      SCOPED_TRACE(text);
      EXPECT_FALSE(unary->matches.empty());
      if (secret != key && secret != jwt) continue;  // The URL rule flags, the secrets redact.
      EXPECT_EQ(unary->redacted_text.find(secret.substr(8, 20)), std::string::npos);
      for (const size_t chunk : {1u, 5u, 64u}) {
        absl::StatusOr<Streamed> streamed = Stream(policies, v1::OUTPUT, Chunks(text, chunk));
        ASSERT_TRUE(streamed.ok()) << streamed.status();
        ExpectSame(*unary, *streamed);
      }
    }
  }
}

// A held token is rescanned as it doubles, not every step (a 16,000-byte token in 32-byte
// chunks took ~500 scans of up to 16 KB each), and as soon as it ends.
TEST(StreamScanner, AHeldTokenIsRescannedAsItGrowsAndReleasedWhenItEnds) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> policies = LoadPolicyTexts(
      {{"small.textproto", R"(id: "all" rules { id: "w" category: CUSTOM action: REDACT regex { pattern: "secretword" } })"}});
  ASSERT_TRUE(policies.ok()) << policies.status();
  absl::StatusOr<std::unique_ptr<StreamScanner>> scanner = StreamScanner::Create(*policies, {"all"}, v1::OUTPUT);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  const std::string token = RandomRun(16000, kBase64Url, 7) + "secretword";
  std::string released;
  for (const std::string& chunk : Chunks("Some words first. " + token, 32)) {
    absl::StatusOr<StreamUpdate> update = (*scanner)->Push(chunk);
    ASSERT_TRUE(update.ok()) << update.status();
    released += update->released;
  }
  EXPECT_LE((*scanner)->scans(), 40u);
  EXPECT_EQ(released.find(token.substr(0, 100)), std::string::npos);  // Held whole.
  const size_t before = (*scanner)->scans();
  absl::StatusOr<StreamUpdate> ended = (*scanner)->Push(" and");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ((*scanner)->scans(), before + 1);  // Scanned at once, released up to the bound.
  EXPECT_NE(ended->released.find(token.substr(0, 100)), std::string::npos);
  EXPECT_EQ(ended->released.find("secretword"), std::string::npos);
}

// Only printable-ASCII runs are held as tokens: text in a script written without spaces is
// released as it is checked (held by the rules' bound only, about 1.2 KB here).
TEST(StreamScanner, TextWithoutSpacesInOtherScriptsIsNotHeldAsAToken) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  absl::StatusOr<std::unique_ptr<StreamScanner>> scanner = StreamScanner::Create(policies, {"all"}, v1::OUTPUT);
  ASSERT_TRUE(scanner.ok()) << scanner.status();
  absl::StatusOr<size_t> holdback = policies->HoldBackBytes({"all"}, v1::OUTPUT);
  ASSERT_TRUE(holdback.ok());
  std::string released;
  for (int i = 0; i < 600; ++i) {  // ~10 KB of Chinese without spaces or newlines.
    absl::StatusOr<StreamUpdate> update = (*scanner)->Push("\xE4\xBB\x8A\xE5\xA4\xA9\xE5\xBE\x88\xE5\xA5\xBD\xE3\x80\x82");
    ASSERT_TRUE(update.ok()) << update.status();
    released += update->released;
  }
  EXPECT_GT(released.size(), 0u);
  EXPECT_LE((*scanner)->held_bytes(), *holdback + (*scanner)->scan_step_bytes() + 64);
}

// An anchored detector's look-ahead window could cut a match that began at a later anchor
// (a URL after a "postgres://" less than its look-ahead before it): the stream took the cut
// match and released the URL's tail. Now equal to the unary scan.
TEST(StreamScanner, AnchoredMatchesAreNotCutByAnEarlierAnchorsWindow) {
  absl::StatusOr<std::shared_ptr<const CompiledPolicies>> policies = LoadPolicyTexts(
      {{"url.textproto", R"(id: "all" rules { id: "url" category: PII action: REDACT detector { type: URL } })"}});
  ASSERT_TRUE(policies.ok()) << policies.status();
  std::string prose;
  while (prose.size() < 5400) prose += "Notes from the meeting about the migration plan. ";
  for (const size_t gap : {100u, 300u, 440u, 500u}) {
    const std::string text = prose + "Connect with postgres://db.internal/app and then " + std::string(gap, 'z') +
                             " visit https://example.com/reset?token=abcdef0123456789 now. " + prose;
    absl::StatusOr<ScanResult> unary = (*policies)->Scan({"all"}, v1::OUTPUT, text);
    ASSERT_TRUE(unary.ok()) << unary.status();
    ASSERT_EQ(unary->redacted_text.find("0123456789"), std::string::npos);
    for (const size_t chunk : {1u, 64u, 333u}) {
      absl::StatusOr<Streamed> streamed = Stream(*policies, v1::OUTPUT, Chunks(text, chunk));
      ASSERT_TRUE(streamed.ok()) << streamed.status();
      SCOPED_TRACE("gap " + std::to_string(gap) + " chunk " + std::to_string(chunk));
      ExpectSame(*unary, *streamed);
    }
  }
}

// The entropy detector validates a value on its first bytes and takes an accepted one
// whole (a run of "token=token=..." made it quadratic: policy_bench BM_ScanHostile).
TEST(StreamScanner, EntropyValuesAreTakenWholeAndLowEntropyRunsRejected) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  const std::string value = RandomRun(700, kBase64Url, 4);
  const std::string text = "secret=" + value + " ok";
  absl::StatusOr<ScanResult> found = policies->Scan({"all"}, v1::INPUT, text);
  ASSERT_TRUE(found.ok()) << found.status();
  bool whole = false;
  for (const v1::RuleMatch& m : found->matches) {
    if (m.entity_type() == "HIGH_ENTROPY_SECRET") whole = m.span().begin() == 7 && m.span().end() == 707;
  }
  EXPECT_TRUE(whole) << Describe(found->matches);
  std::string repeated;
  while (repeated.size() < 20000) repeated += "token=";
  absl::StatusOr<ScanResult> none = policies->Scan({"all"}, v1::INPUT, repeated);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(Describe(none->matches), "");
  absl::StatusOr<Streamed> streamed = Stream(policies, v1::INPUT, Chunks(text, 50));
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  ExpectSame(*found, *streamed);
}

TEST(StreamScanner, RejectsAStreamEndingInsideACharacter) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  absl::StatusOr<std::unique_ptr<StreamScanner>> scanner =
      StreamScanner::Create(policies, {"all"}, v1::OUTPUT);
  ASSERT_TRUE(scanner.ok());
  ASSERT_TRUE((*scanner)->Push("caf\xC3").ok());  // Incomplete: held, not an error yet.
  absl::StatusOr<StreamUpdate> last = (*scanner)->Finish();
  EXPECT_EQ(last.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*scanner)->Push("x").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StreamScanner, RejectsUnknownSets) {
  std::shared_ptr<const CompiledPolicies> policies = LoadAll();
  ASSERT_NE(policies, nullptr);
  EXPECT_EQ(StreamScanner::Create(policies, {"nope"}, v1::OUTPUT).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace warden::policies
