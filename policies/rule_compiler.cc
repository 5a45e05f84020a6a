#include "policies/rule_compiler.h"

#include <algorithm>
#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "google/protobuf/text_format.h"
#include "unicode/utf8.h"
#include "policies/detectors.h"
#include "policies/normalizer.h"
#include "policies/phrases.h"
#include "policies/regex_bounds.h"
#include "policies/validators.h"
#include "policies/string_view_compat.h"

namespace warden::policies {
namespace {

constexpr uint32_t kMaxMatchBytesLimit = 65536;
constexpr uint32_t kDefaultUnboundedBytes = 256;
constexpr size_t kBoundaryContextBytes = 8;  // A consumed boundary character, and slack.
// RE2's memory for one pattern, and for a set's patterns on one view compiled together into
// its prefilter (an RE2::Set, which must also leave its DFA room to run). A term list of
// about 100,000 ten-letter terms (20,000 of 40 letters; some 700,000 RE2 instructions)
// reaches it; the error names the rules that fill it (ReportTooLarge).
constexpr int64_t kRegexMaxMem = int64_t{64} << 20;
constexpr int kRegexMaxMemMiB = static_cast<int>(kRegexMaxMem >> 20);
constexpr size_t kMaxBase64Chars = 1024;  // Longer blobs (images, files) are not decoded.
constexpr std::string_view kBase64RunBytes =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-";

// Whether `text` is UTF-8 as Normalize reads it (ICU's U8_NEXT).
bool IsUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 cp;
    U8_NEXT(bytes, i, length, cp);
    if (cp < 0) return false;
  }
  return true;
}

RE2::Options RegexOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kRegexMaxMem);
  return options;
}

// A pattern waiting to be added to a bank, with its bound in view bytes.
struct PendingEntry {
  PatternEntry entry;
  std::string pattern;
  size_t max_view_bytes = 0;
  ViewKind view = ViewKind::kLiteral;
};

// A term as a regex body: a whole-word body (begins and ends with a letter or digit), or a
// token that begins or ends with '+' or '#' ("c++"; see TermToRegex).
struct TermBody {
  std::string body;
  bool token = false;
};

// The bodies of one term list, by the pattern they go into.
struct TermBodies {
  std::vector<std::string> words;   // WholeWordAlternation.
  std::vector<std::string> tokens;  // WholeTokenAlternation.
  void Add(TermBody term) { (term.token ? tokens : words).push_back(std::move(term.body)); }
};

// Compiles one set. Single use; not thread-safe.
class SetCompiler {
 public:
  SetCompiler(const ParsedPolicyFile& file, std::vector<ConfigError>* errors)
      : file_(file), set_(file.set()), errors_(errors) {}

  std::unique_ptr<CompiledSet> Run() {
    const size_t errors_before = errors_->size();
    out_ = std::make_unique<CompiledSet>();
    out_->id = set_.id();
    if (set_.id().empty()) Fail({{"id", -1}}, "policy set id is required");
    if (set_.default_max_match_bytes() > kMaxMatchBytesLimit) {
      Fail({{"default_max_match_bytes", -1}},
           absl::StrCat("default_max_match_bytes ", set_.default_max_match_bytes(),
                        " out of range [0, ", kMaxMatchBytesLimit, "]"));
    }
    default_bound_ = set_.default_max_match_bytes() == 0 ? kDefaultUnboundedBytes
                                                         : set_.default_max_match_bytes();
    absl::flat_hash_set<std::string> ids;
    for (int i = 0; i < set_.rules_size(); ++i) {
      const v1::Rule& rule = set_.rules(i);
      if (!rule.id().empty() && !ids.insert(rule.id()).second) {
        Fail({{"rules", i}, {"id", -1}}, absl::StrCat("duplicate rule id '", rule.id(), "'"));
      }
      CompileRule(i);
    }
    if (errors_->size() != errors_before) return nullptr;
    BuildBanks();
    if (errors_->size() != errors_before) return nullptr;
    google::protobuf::TextFormat::PrintToString(set_, &out_->text_proto);
    std::string serialized;
    {
      google::protobuf::io::StringOutputStream stream(&serialized);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      set_.SerializeToCodedStream(&coded);
    }
    out_->canonical = absl::StrCat(serialized.size(), ":", serialized, term_file_contents_);
    return std::move(out_);
  }

 private:
  void Fail(const FieldPath& path, std::string message) {
    errors_->push_back(file_.Error(path, std::move(message)));
  }

  FieldPath RulePath(int i, std::initializer_list<std::pair<std::string, int>> rest) {
    FieldPath path = {{"rules", i}};
    path.insert(path.end(), rest.begin(), rest.end());
    return path;
  }

  void CompileRule(int i) {
    const v1::Rule& rule = set_.rules(i);
    CompiledRule compiled;
    compiled.id = rule.id();
    compiled.set_id = set_.id();
    compiled.ordinal = i;
    compiled.shadow = rule.shadow() || set_.shadow();
    if (rule.id().empty()) Fail({{"rules", i}}, "rule id is required");
    CheckCategory(i, rule, compiled);
    CheckAction(i, rule, compiled);
    CheckDirections(i, rule);
    CheckAllowList(i, rule, compiled);
    if (rule.max_match_bytes() > kMaxMatchBytesLimit) {
      Fail(RulePath(i, {{"max_match_bytes", -1}}),
           absl::StrCat("max_match_bytes ", rule.max_match_bytes(), " out of range [1, ",
                        kMaxMatchBytesLimit, "]"));
    }
    const std::string entity = EntityOf(rule);
    compiled.redactor = Redactor(rule.redaction(), entity, ResolveKey(i, rule));
    out_->rules.push_back(std::move(compiled));
    switch (rule.kind_case()) {
      case v1::Rule::kRegex: AddRegex(i, rule); break;
      case v1::Rule::kTermList: AddTermList(i, rule); break;
      case v1::Rule::kDetector: AddDetector(i, rule); break;
      case v1::Rule::kInjection: AddInjection(i, rule); break;
      default:
        Fail({{"rules", i}}, "one of regex, term_list, detector or injection is required");
    }
  }

  static std::string EntityOf(const v1::Rule& rule) {
    if (!rule.entity_type().empty()) return rule.entity_type();
    if (rule.has_detector()) {
      const DetectorSpec* spec = FindDetector(rule.detector().type());
      if (spec != nullptr) return std::string(spec->entity_type);
    }
    if (rule.has_term_list()) return "BLOCKLIST";
    if (rule.has_injection()) return "PROMPT_INJECTION";
    return "CUSTOM";
  }

  void CheckCategory(int i, const v1::Rule& rule, CompiledRule& compiled) {
    if (!v1::Category_IsValid(rule.category())) {
      Fail(RulePath(i, {{"category", -1}}), absl::StrCat("unknown category ", rule.category()));
    } else if (rule.category() == v1::CATEGORY_UNSPECIFIED) {
      Fail(RulePath(i, {}), "category is required");
    }
    compiled.category = rule.category();
  }

  void CheckAction(int i, const v1::Rule& rule, CompiledRule& compiled) {
    const v1::Action action = rule.action();
    if (!v1::Action_IsValid(action)) {
      Fail(RulePath(i, {{"action", -1}}), absl::StrCat("unknown action ", action));
    } else if (action == v1::ACTION_UNSPECIFIED) {
      Fail(RulePath(i, {}), "action is required (FLAG, REDACT or BLOCK)");
    } else if (action == v1::ALLOW) {
      Fail(RulePath(i, {{"action", -1}}), "action ALLOW does nothing; use FLAG, REDACT or BLOCK");
    }
    compiled.action = action;
    compiled.block_message = rule.block_message().empty()
                                 ? absl::StrCat("Blocked by policy rule ", rule.id(), ".")
                                 : rule.block_message();
  }

  void CheckDirections(int i, const v1::Rule& rule) {
    for (int d = 0; d < rule.directions_size(); ++d) {
      const int value = rule.directions(d);
      if (value != v1::INPUT && value != v1::OUTPUT) {
        Fail(RulePath(i, {{"directions", d}}),
             absl::StrCat("direction must be INPUT or OUTPUT, got ", value));
      }
    }
  }

  void CheckAllowList(int i, const v1::Rule& rule, CompiledRule& compiled) {
    for (const std::string& literal : rule.allow().literals()) {
      compiled.allow_literals.push_back(absl::AsciiStrToLower(literal));
    }
    // An allow pattern must match a whole finding, which is never empty: a pattern that
    // can also match "" (`.*@corp\.example`, `x*`) still allows real findings and is fine;
    // only the empty pattern, which allows nothing, is refused.
    for (int k = 0; k < rule.allow().patterns_size(); ++k) {
      if (rule.allow().patterns(k).empty()) {
        Fail(RulePath(i, {{"allow", -1}, {"patterns", k}}),
             "an empty pattern allows nothing (a pattern must match the whole finding)");
        continue;
      }
      auto regex = std::make_unique<const RE2>(rule.allow().patterns(k), RegexOptions());
      if (!regex->ok()) {
        Fail(RulePath(i, {{"allow", -1}, {"patterns", k}}),
             absl::StrCat("invalid regex: ", regex->error()));
        continue;
      }
      compiled.allow_patterns.push_back(std::move(regex));
    }
  }

  std::string ResolveKey(int i, const v1::Rule& rule) {
    const v1::Redaction& redaction = rule.redaction();
    if (redaction.mask_keep_last() > 16) {
      Fail(RulePath(i, {{"redaction", -1}, {"mask_keep_last", -1}}),
           absl::StrCat("mask_keep_last ", redaction.mask_keep_last(), " out of range [0, 16]"));
    }
    if (!v1::Redaction::Style_IsValid(redaction.style())) {
      Fail(RulePath(i, {{"redaction", -1}, {"style", -1}}), "unknown redaction style");
    }
    if (redaction.style() != v1::Redaction::KEYED_HASH) return "";
    if (!redaction.hash_key().empty()) return redaction.hash_key();
    if (!redaction.hash_key_env().empty()) {
      const char* value = std::getenv(redaction.hash_key_env().c_str());
      if (value != nullptr && *value != '\0') return value;
      Fail(RulePath(i, {{"redaction", -1}, {"hash_key_env", -1}}),
           absl::StrCat("environment variable ", redaction.hash_key_env(), " is not set"));
      return "";
    }
    Fail(RulePath(i, {{"redaction", -1}}), "KEYED_HASH needs hash_key or hash_key_env");
    return "";
  }

  // The hold-back bound: the configured cap, else the pattern's own bound, else the
  // set's default for unbounded patterns.
  size_t Bound(const v1::Rule& rule, std::string_view pattern) const {
    const std::optional<size_t> computed = MaxMatchBytes(pattern);
    size_t bound = computed.value_or(default_bound_);
    if (rule.max_match_bytes() > 0) bound = std::min<size_t>(bound, rule.max_match_bytes());
    return bound + kBoundaryContextBytes;
  }

  // The bound of a pattern whose longest match is known (`max_bytes`).
  size_t KnownBound(const v1::Rule& rule, size_t max_bytes) const {
    size_t bound = max_bytes;
    if (rule.max_match_bytes() > 0) bound = std::min<size_t>(bound, rule.max_match_bytes());
    return bound + kBoundaryContextBytes;
  }

  void Add(int i, ViewKind view, std::string pattern, EntryValidator validate,
           std::string entity, size_t bound, bool term_list, size_t max_finding_bytes = 0,
           bool trim_boundaries = false) {
    PendingEntry pending;
    pending.entry.trim_boundaries = trim_boundaries;
    pending.entry.max_finding_bytes = max_finding_bytes;
    pending.entry.rule = i;
    pending.entry.validate = std::move(validate);
    pending.entry.entity_type = std::move(entity);
    pending.entry.term_list = term_list;
    pending.pattern = std::move(pattern);
    pending.max_view_bytes = bound;
    pending.view = view;
    pending_.push_back({i, std::move(pending)});
  }

  void AddRegex(int i, const v1::Rule& rule) {
    const v1::RegexRule& regex = rule.regex();
    if (regex.pattern().empty()) {
      Fail(RulePath(i, {{"regex", -1}}), "pattern is required");
      return;
    }
    if (!v1::TextView_IsValid(regex.view())) {
      Fail(RulePath(i, {{"regex", -1}, {"view", -1}}), "unknown view");
      return;
    }
    const std::string pattern =
        regex.case_insensitive() ? absl::StrCat("(?i)", regex.pattern()) : regex.pattern();
    RE2 probe(pattern, RegexOptions());
    if (!probe.ok()) {
      Fail(RulePath(i, {{"regex", -1}, {"pattern", -1}}),
           absl::StrCat("invalid regex: ", probe.error()));
      return;
    }
    // A finding is never empty, so an empty match is dropped and the search goes on one
    // character later: "(?:)|secret" never fires (leftmost-first takes the empty branch),
    // "\b" never does, and "x*" runs the regex once per character of every text.
    if (MatchesEmptyString(probe)) {
      Fail(RulePath(i, {{"regex", -1}, {"pattern", -1}}),
           "the pattern matches the empty string (at some position of a text), and an empty "
           "finding is never reported; require at least one character (x+ rather than x*, no "
           "empty alternative, no pattern of only anchors or \\b)");
      return;
    }
    const ViewKind view = regex.view() == v1::FOLDED ? ViewKind::kFolded : ViewKind::kLiteral;
    Add(i, view, pattern, nullptr, EntityOf(rule), Bound(rule, pattern), false);
  }

  // Terms from the inline list and the file, each turned into a regex body.
  void AddTermList(int i, const v1::Rule& rule) {
    const v1::TermList& list = rule.term_list();
    TermBodies bodies;
    const size_t errors_before = errors_->size();
    for (int k = 0; k < list.terms_size(); ++k) {
      absl::StatusOr<TermBody> body = TermToRegex(list.terms(k));
      if (!body.ok()) {
        Fail(RulePath(i, {{"term_list", -1}, {"terms", k}}), std::string(body.status().message()));
        continue;
      }
      bodies.Add(*std::move(body));
    }
    if (!list.file().empty()) ReadTermFile(i, list.file(), &bodies);
    // (A list whose every term was refused has had its errors.)
    if (bodies.words.empty() && bodies.tokens.empty() && errors_->size() == errors_before) {
      Fail(RulePath(i, {{"term_list", -1}}), "term list has no terms");
      return;
    }
    for (std::vector<std::string>* group : {&bodies.words, &bodies.tokens}) {
      // Longer alternatives first, so the longest term wins at a position.
      std::sort(group->begin(), group->end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
      });
      group->erase(std::unique(group->begin(), group->end()), group->end());
    }
    term_counts_[i] = bodies.words.size() + bodies.tokens.size();
    // A spaced-out term ("b . a . d") spans up to three folded bytes per letter.
    if (!bodies.words.empty()) {
      const std::string pattern = WholeWordAlternation(bodies.words);
      Add(i, ViewKind::kFolded, pattern, nullptr, EntityOf(rule), 3 * Bound(rule, pattern), true,
          0, true);
    }
    if (!bodies.tokens.empty()) {  // Rare ("c++", "c#"): their own entry, with a group.
      const std::string pattern = WholeTokenAlternation(bodies.tokens);
      Add(i, ViewKind::kFolded, pattern, nullptr, EntityOf(rule), 3 * Bound(rule, pattern), true);
    }
  }

  // Returns false (after reporting it) when the file cannot be read.
  bool ReadTermFile(int i, const std::string& name, TermBodies* bodies) {
    const std::string path = !name.empty() && name[0] == '/' ? name : file_.Directory() + name;
    // ReadFile refuses a directory too (it would read as empty: "has no terms").
    const absl::StatusOr<std::string> contents = ReadFile(path);
    if (!contents.ok()) {
      Fail(RulePath(i, {{"term_list", -1}, {"file", -1}}), absl::StrCat("term file: ", contents.status().message()));
      return false;
    }
    absl::StrAppend(&term_file_contents_, "\n", name, "\n", *contents);
    int line_number = 0;
    for (absl::string_view whole : absl::StrSplit(*contents, '\n')) {
      ++line_number;
      absl::string_view line = whole;
      // A comment is a '#' at the start of the line or after whitespace, so that "c#" is a
      // term (not "c", which would match every word "c").
      for (size_t hash = line.find('#'); hash != absl::string_view::npos;
           hash = line.find('#', hash + 1)) {
        if (hash == 0 || absl::ascii_isspace(static_cast<unsigned char>(line[hash - 1]))) {
          line = line.substr(0, hash);
          break;
        }
      }
      line = absl::StripAsciiWhitespace(line);
      if (line.empty()) continue;
      absl::StatusOr<TermBody> body = TermToRegex(ToStd(line));
      if (!body.ok()) {
        const int column = static_cast<int>(line.data() - whole.data()) + 1;
        errors_->push_back({path, line_number, column, "", std::string(body.status().message())});
        continue;
      }
      bodies->Add(*std::move(body));
    }
    return true;
  }

  void AddDetector(int i, const v1::Rule& rule) {
    const v1::Detector& detector = rule.detector();
    const DetectorSpec* spec = FindDetector(detector.type());
    if (spec == nullptr) {
      Fail(RulePath(i, {{"detector", -1}, {"type", -1}}),
           detector.type() == v1::DETECTOR_TYPE_UNSPECIFIED
               ? std::string("detector type is required")
               : absl::StrCat("unknown detector type ", detector.type()));
      return;
    }
    DetectorParams params;
    if (detector.min_entropy() != 0.0) {
      if (!(detector.min_entropy() >= 1.0 && detector.min_entropy() <= 6.0)) {
        Fail(RulePath(i, {{"detector", -1}, {"min_entropy", -1}}),
             absl::StrCat("min_entropy ", detector.min_entropy(), " out of range [1, 6]"));
        return;
      }
      params.min_entropy = detector.min_entropy();
    }
    EntryValidator validate;
    if (spec->validate != nullptr) {
      validate = [fn = spec->validate, params](std::string_view s) { return fn(s, params); };
    }
    Add(i, ViewKind::kLiteral, std::string(spec->pattern), std::move(validate), EntityOf(rule),
        KnownBound(rule, spec->max_bytes), false, spec->max_bytes);
    PatternEntry& added = pending_.back().second.entry;
    SetCandidateRuns(spec->runs, added);
    SetBounded(i, spec->pattern, spec->bounds, added);
    added.extends = spec->extends;
    added.anchor = std::string(spec->anchor);
    added.anchor_lookbehind = spec->anchor_lookbehind;
  }

  void AddInjection(int i, const v1::Rule& rule) {
    const v1::InjectionHeuristics& config = rule.injection();
    const uint32_t min_chars = config.min_base64_chars() == 0 ? 24 : config.min_base64_chars();
    if (min_chars < 16 || min_chars > 1000) {
      Fail(RulePath(i, {{"injection", -1}, {"min_base64_chars", -1}}),
           absl::StrCat("min_base64_chars ", min_chars, " out of range [16, 1000]"));
      return;
    }
    std::vector<std::string> bodies;
    if (!config.disable_instruction_override()) {
      for (std::string_view phrase : BuiltinOverridePhrases()) {
        absl::StatusOr<std::string> body = PhraseTemplateToRegex(phrase);
        if (body.ok()) bodies.push_back(*std::move(body));
      }
    }
    for (int k = 0; k < config.extra_phrases_size(); ++k) {
      absl::StatusOr<std::string> body = PhraseTemplateToRegex(config.extra_phrases(k));
      if (!body.ok()) {
        Fail(RulePath(i, {{"injection", -1}, {"extra_phrases", k}}),
             std::string(body.status().message()));
        continue;
      }
      // "[all|any]": every word optional, so the phrase matches nothing at all (an empty
      // finding), and within the alternation it would shadow the phrases after it.
      if (MatchesEmptyString(RE2(*body, RegexOptions()))) {
        Fail(RulePath(i, {{"injection", -1}, {"extra_phrases", k}}),
             "the phrase has no required word (every word is [optional]), so it matches the "
             "empty string");
        continue;
      }
      bodies.push_back(*std::move(body));
    }
    if (!bodies.empty()) {
      const std::string pattern = WholeWordAlternation(bodies);
      Add(i, ViewKind::kFolded, pattern, nullptr, "PROMPT_INJECTION", Bound(rule, pattern), false,
          0, true);
    }
    if (!config.disable_role_tokens()) {
      Add(i, ViewKind::kLiteral, std::string(RoleTokenPattern()), nullptr, "ROLE_TOKEN",
          Bound(rule, RoleTokenPattern()), false);
    }
    if (!config.disable_encoded_payloads() && !bodies.empty()) {
      AddEncodedPayload(i, rule, WholeWordAlternation(bodies), min_chars);
    }
  }

  // Base64 blobs whose decoded text contains an override phrase or a role token.
  void AddEncodedPayload(int i, const v1::Rule& rule, const std::string& phrases,
                         uint32_t min_chars) {
    auto phrase_regex = std::make_shared<const RE2>(phrases, RegexOptions());
    auto role_regex = std::make_shared<const RE2>(std::string(RoleTokenPattern()), RegexOptions());
    EntryValidator validate = [phrase_regex, role_regex](std::string_view candidate) -> size_t {
      std::optional<std::string> decoded = DecodeBase64(candidate);
      if (!decoded.has_value()) return 0;
      // Every role token has '<', '[' or '#'; cheaper to look for than to run the regex.
      if (decoded->find_first_of("<[#") != std::string::npos &&
          RE2::PartialMatch(*decoded, *role_regex)) {
        return candidate.size();
      }
      // Binary data (most random tokens) is not UTF-8, which Normalize would reject.
      if (!IsUtf8(*decoded)) return 0;
      absl::StatusOr<NormalizedText> folded = Normalize(*decoded, FoldedViewOptions());
      if (!folded.ok()) return 0;
      return RE2::PartialMatch(folded->text, *phrase_regex) ? candidate.size() : 0;
    };
    const std::string pattern = EncodedPayloadPattern(min_chars);
    Add(i, ViewKind::kLiteral, pattern, std::move(validate), "ENCODED_INJECTION",
        KnownBound(rule, kMaxBase64Chars), false, kMaxBase64Chars);
    // The blob is a whole run of base64 characters ('=' excluded) preceded by one
    // character outside it (at most 4 bytes) and followed by up to two '=' and one more.
    SetCandidateRuns({kBase64RunBytes, "", min_chars, 4, 6, 1, "", true},
                     pending_.back().second.entry);
    SetBounded(i, pattern, kEncodedPayloadBounds, pending_.back().second.entry);
  }

  // A wrong built-in table is reported at load like any other configuration error.
  void SetBounded(int i, std::string_view pattern, const ContextBounds& bounds, PatternEntry& entry) {
    if (bounds.empty()) return;
    absl::StatusOr<BoundedContext> context = BoundedContext::ForPattern(pattern, bounds);
    if (!context.ok()) {
      Fail(RulePath(i, {}), std::string(context.status().message()));
      return;
    }
    entry.bounded = *context;
  }

  static void SetCandidateRuns(const CandidateRuns& runs, PatternEntry& entry) {
    if (!runs.bytes.empty()) entry.runs = std::make_shared<const RunClasses>(runs);
  }

  // A term's end punctuation is dropped (terms match as whole words: "bad!" is the word
  // "bad"; inner punctuation stays: "s.o.b." is "s.o.b", found in "you s.o.b."). When that
  // would leave one character the term is refused, as it would match every word of that
  // letter: "f***" is a masked word ('*' hides letters) and would block the F of "400°F";
  // "x!" is told to write "x" if the letter is meant. Only '+' and '#', which are part of
  // names ("c++", "c#", "f#", "a+"), keep such a term as written: it is then found only
  // with its symbols, as a token between non-word characters (never in "c" or "abc++").
  static absl::StatusOr<TermBody> TermToRegex(std::string_view term) {
    // Folded first, as the text it is matched in is: leetspeak symbols are letters there
    // ("a$$" is "ass", "@ss" is "ass"), not punctuation to drop ("a$$" would become "a").
    absl::StatusOr<NormalizedText> folded = Normalize(term, FoldedViewOptions());
    if (!folded.ok()) return folded.status();
    std::vector<std::string> words;
    for (absl::string_view word :
         absl::StrSplit(ToAbsl(folded->text), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      words.push_back(std::string(word));
    }
    const std::vector<std::string> written = words;
    std::string dropped;  // The punctuation taken off the ends.
    while (!words.empty()) {
      std::string& first = words.front();
      while (!first.empty() && absl::ascii_ispunct(static_cast<unsigned char>(first.front()))) {
        dropped.push_back(first.front());
        first.erase(0, 1);
      }
      std::string& last = words.back();
      while (!last.empty() && absl::ascii_ispunct(static_cast<unsigned char>(last.back()))) {
        dropped.push_back(last.back());
        last.pop_back();
      }
      if (!words.front().empty() && !words.back().empty()) break;
      if (words.front().empty()) words.erase(words.begin());
      if (!words.empty() && words.back().empty()) words.pop_back();
    }
    if (words.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "term '", ToAbsl(term), "' has no letter or digit (a term is matched as whole words; "
          "the punctuation at its ends is dropped)"));
    }
    bool token = false;
    if (!dropped.empty() && words.size() == 1 && CodePoints(words[0]) == 1) {
      const std::string letter = words[0];
      if (dropped.find('*') != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "term '", ToAbsl(term), "' is masked: '*' hides letters, and without the punctuation "
            "at its ends (dropped, as terms match as whole words) it is the single letter '",
            letter, "', which would block every word '", letter,
            "' (e.g. the F of 400\u00b0F); write the whole word (matching already ignores case, "
            "leetspeak, look-alike letters and spaced-out letters)"));
      }
      if (dropped.find_first_not_of("+#") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "term '", ToAbsl(term), "' is the single character '", letter,
            "' once the punctuation at its ends is dropped (terms match as whole words), and "
            "would block every word '", letter, "'; write '", letter,
            "' alone if that is meant, or use a regex rule to require the punctuation"));
      }
      words = written;  // "c++", "c#": kept as written, as a token.
      token = true;
    }
    // Quote '|' and '[' so a term is never read as a phrase template.
    std::string phrase;
    for (const std::string& word : words) {
      if (word.find_first_of("|[]") != std::string::npos) {
        return absl::InvalidArgumentError(absl::StrCat("term '", ToAbsl(term), "' contains | [ or ]"));
      }
      absl::StrAppend(&phrase, phrase.empty() ? "" : " ", word);
    }
    absl::StatusOr<std::string> body = PhraseTemplateToRegex(phrase);
    if (!body.ok()) return body.status();
    return TermBody{*std::move(body), token};
  }

  static size_t CodePoints(std::string_view text) {
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  }

  // Compiles every pending pattern into its direction's bank and prefilter.
  void BuildBanks() {
    // Per direction and view: the indices into pending_ of the bank's patterns.
    std::array<std::array<std::vector<size_t>, kViewCount>, kDirectionCount> members;
    program_sizes_.assign(pending_.size(), 0);
    for (size_t p = 0; p < pending_.size(); ++p) {
      auto& [rule_index, pending] = pending_[p];
      const v1::Rule& rule = set_.rules(rule_index);
      auto regex = std::make_shared<const RE2>(pending.pattern, RegexOptions());
      if (!regex->ok()) {
        Fail(KindPath(rule_index),
             absl::StrCat(Subject(rule_index), " cannot be compiled: ", regex->error(),
                          " (RE2's memory limit for a pattern is ", kRegexMaxMemMiB, " MiB)"));
        continue;
      }
      program_sizes_[p] = regex->ProgramSize();
      pending.entry.regex = regex;
      for (int d = 0; d < kDirectionCount; ++d) {
        if (!AppliesTo(rule, d == 0 ? v1::INPUT : v1::OUTPUT)) continue;
        PatternBank& bank = out_->banks[d][static_cast<int>(pending.view)];
        bank.entries.push_back(pending.entry);
        bank.has_term_lists |= pending.entry.term_list;
        bank.max_view_bytes = std::max(bank.max_view_bytes, pending.max_view_bytes);
        members[d][static_cast<int>(pending.view)].push_back(p);
      }
    }
    for (int v = 0; v < kViewCount; ++v) {
      for (int d = 0; d < kDirectionCount; ++d) {
        // Rules for both directions (the usual case) make the same prefilter: compiled once,
        // and a failure reported once.
        if (d > 0 && members[d][v] == members[0][v]) {
          out_->banks[d][v].prefilter = out_->banks[0][v].prefilter;
          continue;
        }
        BuildPrefilter(out_->banks[d][v], members[d][v], v);
      }
    }
  }

  void BuildPrefilter(PatternBank& bank, const std::vector<size_t>& members, int view) {
    if (members.empty()) return;
    auto prefilter = std::make_shared<RE2::Set>(RegexOptions(), RE2::UNANCHORED);
    for (size_t p : members) {
      std::string error;
      if (prefilter->Add(pending_[p].second.pattern, &error) < 0) {
        Fail(KindPath(pending_[p].first), absl::StrCat("cannot add pattern to the set: ", error));
        return;
      }
    }
    if (!prefilter->Compile()) {
      ReportTooLarge(members, view);
      return;
    }
    bank.prefilter = std::move(prefilter);
  }

  // The prefilter of one view could not be compiled: names the largest rules, which hold
  // more than half of the view's RE2 program together, each once for the set.
  void ReportTooLarge(const std::vector<size_t>& members, int view) {
    std::vector<std::pair<int, size_t>> sizes;  // (rule, program size), the rule's entries summed.
    size_t total = 0;
    for (size_t p : members) {
      const int rule = pending_[p].first;
      total += program_sizes_[p];
      if (!sizes.empty() && sizes.back().first == rule) {
        sizes.back().second += program_sizes_[p];
      } else {
        sizes.push_back({rule, program_sizes_[p]});
      }
    }
    std::stable_sort(sizes.begin(), sizes.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    size_t named = 0;
    for (const auto& [rule, size] : sizes) {
      if (2 * named > total) break;
      named += size;
      if (!too_large_reported_.insert(rule).second) continue;
      Fail(KindPath(rule),
           absl::StrCat(Subject(rule), " is too large: the set's patterns on the ",
                        view == static_cast<int>(ViewKind::kFolded) ? "FOLDED" : "LITERAL",
                        " view must compile together within RE2's memory limit of ",
                        kRegexMaxMemMiB, " MiB (about 100,000 ten-letter terms), and this rule's "
                        "pattern takes ", size, " of their ", total,
                        " RE2 instructions; shorten the list or split it across policy sets"));
    }
  }

  // Where a rule's pattern comes from, for errors about the compiled pattern.
  FieldPath KindPath(int i) const {
    switch (set_.rules(i).kind_case()) {
      case v1::Rule::kRegex: return {{"rules", i}, {"regex", -1}, {"pattern", -1}};
      case v1::Rule::kTermList: return {{"rules", i}, {"term_list", -1}};
      default: return {{"rules", i}};
    }
  }

  // "the term list (N terms)" for a term-list rule, else "the pattern".
  std::string Subject(int i) const {
    const auto it = term_counts_.find(i);
    if (it == term_counts_.end()) return "the pattern";
    return absl::StrCat("the term list (", it->second, " terms)");
  }

  static bool AppliesTo(const v1::Rule& rule, v1::Direction direction) {
    if (rule.directions_size() == 0) return true;
    for (int d : rule.directions()) {
      if (d == direction) return true;
    }
    return false;
  }

  const ParsedPolicyFile& file_;
  const v1::PolicySet& set_;
  std::vector<ConfigError>* errors_;
  std::unique_ptr<CompiledSet> out_;
  size_t default_bound_ = kDefaultUnboundedBytes;
  std::vector<std::pair<int, PendingEntry>> pending_;
  std::vector<size_t> program_sizes_;  // RE2 program size per pending_ entry; 0 = not compiled.
  absl::flat_hash_map<int, size_t> term_counts_;  // Rule -> distinct terms of its term list.
  absl::flat_hash_set<int> too_large_reported_;    // Rules named by ReportTooLarge.
  std::string term_file_contents_;
};

}  // namespace

bool CompiledRule::Allowed(std::string_view matched) const {
  if (!allow_literals.empty()) {
    const std::string lower = absl::AsciiStrToLower(ToAbsl(matched));
    for (const std::string& literal : allow_literals) {
      if (literal == lower) return true;
    }
  }
  for (const auto& pattern : allow_patterns) {
    if (RE2::FullMatch(matched, *pattern)) return true;
  }
  return false;
}

std::unique_ptr<CompiledSet> CompileSet(const ParsedPolicyFile& file,
                                        std::vector<ConfigError>* errors) {
  return SetCompiler(file, errors).Run();
}

}  // namespace warden::policies
