#include "policies/compiled_policies.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/sha256.h"
#include "policies/candidate_runs.h"
#include "policies/phrases.h"
#include "policies/spaced_letters.h"
#include "policies/string_view_compat.h"

namespace warden::policies {

// One entry of a merged bank and the set it came from.
struct CombinedEntry {
  const CompiledSet* set = nullptr;
  int set_order = 0;
  const PatternEntry* entry = nullptr;
};

struct CombinedBank {
  std::vector<CombinedEntry> entries;
  std::unique_ptr<RE2::Set> prefilter;  // Null: scan every entry.
  bool has_term_lists = false;
};

struct Combination {
  std::array<CombinedBank, kViewCount> banks;
};

namespace {

constexpr size_t kMaxCachedCombinations = 256;

std::unique_ptr<const Combination> BuildCombination(const std::vector<const CompiledSet*>& sets,
                                                    int direction) {
  auto combination = std::make_unique<Combination>();
  for (int v = 0; v < kViewCount; ++v) {
    CombinedBank& bank = combination->banks[v];
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(int64_t{128} << 20);
    auto prefilter = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    bool ok = true;
    for (size_t order = 0; order < sets.size(); ++order) {
      for (const PatternEntry& entry : sets[order]->banks[direction][v].entries) {
        bank.entries.push_back({sets[order], static_cast<int>(order), &entry});
        bank.has_term_lists |= entry.term_list;
        ok = ok && prefilter->Add(entry.regex->pattern(), nullptr) >= 0;
      }
    }
    if (ok && !bank.entries.empty() && prefilter->Compile()) bank.prefilter = std::move(prefilter);
  }
  return combination;
}

int DirectionIndex(v1::Direction direction) { return direction == v1::OUTPUT ? 1 : 0; }

absl::Status CheckDirection(v1::Direction direction) {
  if (direction == v1::INPUT || direction == v1::OUTPUT) return absl::OkStatus();
  return absl::InvalidArgumentError("direction must be INPUT or OUTPUT");
}

// The views of one text, normalised on first use. Not thread-safe; one per scan.
class Views {
 public:
  explicit Views(std::string_view text) : text_(text) {}

  absl::StatusOr<const NormalizedText*> Get(ViewKind kind) {
    std::optional<NormalizedText>& slot = kind == ViewKind::kLiteral ? literal_ : folded_;
    if (!slot.has_value()) {
      absl::StatusOr<NormalizedText> normalized = Normalize(
          text_, kind == ViewKind::kLiteral ? LiteralViewOptions() : FoldedViewOptions());
      if (!normalized.ok()) return normalized.status();
      slot = *std::move(normalized);
    }
    return &*slot;
  }

  // The folded view with spaced-out letters joined; nullptr when it has none.
  const NormalizedText* Despaced() {
    if (!despaced_done_ && folded_.has_value()) {
      despaced_ = CollapseSpacedLetters(*folded_);
      despaced_done_ = true;
    }
    return despaced_.has_value() ? &*despaced_ : nullptr;
  }

  // The earliest original offset that still lies within the last `holdback` bytes of
  // any view computed so far.
  uint32_t Settled(size_t holdback) const {
    uint32_t settled = static_cast<uint32_t>(text_.size());
    for (const std::optional<NormalizedText>* view : {&literal_, &folded_}) {
      if (!view->has_value()) continue;
      const NormalizedText& n = **view;
      const size_t at = n.text.size() > holdback ? n.text.size() - holdback : 0;
      settled = std::min(settled, n.to_original[at]);
    }
    return settled;
  }

  uint32_t ContextStart(uint32_t settled, size_t holdback) const {
    uint32_t start = settled;
    for (const std::optional<NormalizedText>* view : {&literal_, &folded_}) {
      if (!view->has_value()) continue;
      const std::vector<uint32_t>& map = (*view)->to_original;
      const size_t at = std::lower_bound(map.begin(), map.end(), settled) - map.begin();
      start = std::min(start, map[at > holdback ? at - holdback : 0]);
    }
    return start;
  }

 private:
  std::string_view text_;
  std::optional<NormalizedText> literal_;
  std::optional<NormalizedText> folded_;
  std::optional<NormalizedText> despaced_;
  bool despaced_done_ = false;
};

// The finding of one regex match: the first capturing group that took part, else all.
re2::StringPiece FindingPiece(absl::Span<const re2::StringPiece> groups) {
  for (size_t g = 1; g < groups.size(); ++g) {
    if (groups[g].data() != nullptr) return groups[g];
  }
  return groups[0];
}

size_t NextCharBoundary(std::string_view text, size_t pos) {
  while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

// One match of a pattern's search: where it began and where the next search starts
// (original offsets of the window).
struct ChainStep {
  uint32_t begin = 0;
  uint32_t next = 0;
};

// The matches of one pattern over one view, in order.
struct EntryChain {
  const PatternEntry* entry = nullptr;
  int view = 0;
  std::vector<ChainStep> steps;
};

// One entry running over one view, appending its accepted findings.
class EntryScan {
 public:
  // `start`: the view offset where the search begins (the text before it is context).
  // Every match is also recorded in `chain` when given (where it began and where the next
  // search starts, original offsets), for resuming in a later window.
  // `whole_text`: the text is complete (a unary scan), so a finding may be longer than the
  // pattern's bound, which only a stream's hold-back needs.
  EntryScan(const CompiledSet& set, int set_order, const PatternEntry& entry,
            std::string_view original, const NormalizedText& view, size_t start, bool whole_text,
            std::vector<Finding>* out, std::vector<ChainStep>* chain)
      : rule_(set.rules[entry.rule]), set_order_(set_order), entry_(entry), original_(original),
        view_(view), text_(view.text), start_(start), whole_text_(whole_text),
        groups_(entry.trim_boundaries ? 1 : 1 + entry.regex->NumberOfCapturingGroups()),
        out_(out), chain_(chain) {}

  void Run() {
    if (entry_.runs != nullptr) {
      RunInCandidateWindows();
    } else if (entry_.anchor.empty()) {
      size_t pos = start_;
      while (pos <= text_.size() && Match(pos, text_.size())) pos = Take();
    } else {
      RunAnchored();
    }
  }

 private:
  // Every match lies inside one window around a candidate run (see CandidateRuns), and
  // overlapping windows are merged, so searching the windows in order from where the last
  // match left off finds exactly the matches of a search of the whole text: RE2 sees the
  // whole text as context, so `^`, `$` and the boundary classes behave the same.
  void RunInCandidateWindows() {
    CandidateWindows windows(*entry_.runs, text_);
    size_t pos = start_;
    while (windows.Next()) {
      size_t from = std::max(windows.begin(), pos);
      while (windows.MayMatchFrom(from) && Match(from, windows.end())) {
        from = windows.ResumeAfterMatch(Take());
      }
      pos = std::max(from, pos);
    }
  }

  // Every match contains the anchor, so the search starts only around its occurrences. It
  // runs to the text's end, stream windows too: a look-ahead window cut long matches short
  // or dropped them (a URL whose search began at an earlier "://" released its tail; a JWT
  // longer than its bound was never found), and a match longer than the bound is taken
  // whole once its token ends (FindAll holds a growing one). Each search either finds the
  // next match, which the next search starts after, or ends the loop: linear.
  void RunAnchored() {
    size_t pos = start_;
    size_t search = start_;
    while (search < text_.size()) {
      const size_t a = text_.find(entry_.anchor, search);
      if (a == std::string_view::npos) break;
      size_t from = std::max(pos, a > entry_.anchor_lookbehind ? a - entry_.anchor_lookbehind : 0);
      // The look-behind counts the context character before a match as one byte: a
      // multi-byte one (a typographic quote, an arrow) must be read whole, or the context
      // cannot match and the search (which ends the loop when it finds nothing) missed
      // “sk-...”-style secrets.
      while (from > pos && (static_cast<unsigned char>(text_[from]) & 0xC0) == 0x80) --from;
      if (from > a) {
        search = a + 1;
        continue;
      }
      if (!Match(from, text_.size())) break;  // No later anchor can match either.
      pos = Take();
      search = std::max(a + 1, pos);
    }
  }

  bool Match(size_t from, size_t to) {
    if (!entry_.bounded.has_value()) {
      return entry_.regex->Match(text_, from, to, RE2::UNANCHORED, groups_.data(),
                                 static_cast<int>(groups_.size()));
    }
    // Class-bounded: the DFA finds the whole match, the body follows from its ends.
    if (!entry_.regex->Match(text_, from, to, RE2::UNANCHORED, groups_.data(), 1)) return false;
    const size_t begin = groups_[0].data() - text_.data();
    size_t body_begin = 0, body_end = 0;
    if (groups_.size() < 2 ||
        !entry_.bounded->Body(text_, begin, begin + groups_[0].size(), &body_begin, &body_end)) {
      return entry_.regex->Match(text_, begin, begin + groups_[0].size(), RE2::ANCHOR_BOTH,
                                 groups_.data(), static_cast<int>(groups_.size()));
    }
    groups_[1] = re2::StringPiece(text_.data() + body_begin, body_end - body_begin);
    for (size_t g = 2; g < groups_.size(); ++g) groups_[g] = re2::StringPiece();
    return true;
  }

  // Handles the current match; returns where the next search starts.
  size_t Take() {
    re2::StringPiece piece = FindingPiece(groups_);
    if (entry_.trim_boundaries) {
      const size_t at = piece.data() - text_.data();
      const auto [b, e] = TrimWordBoundaries(text_, at, at + piece.size());
      piece = re2::StringPiece(text_.data() + b, e - b);
    }
    const size_t begin = piece.data() - text_.data();
    const size_t whole_begin = groups_[0].data() - text_.data();
    const size_t retry = NextCharBoundary(text_, whole_begin + 1);
    if (entry_.extends != nullptr) piece = ExtendedPiece(begin, piece.size(), entry_.max_finding_bytes);
    size_t keep = piece.empty() ? 0 : (entry_.validate ? entry_.validate(piece) : piece.size());
    // Validated on its first bytes; accepted, it is the whole run.
    if (entry_.extends != nullptr && keep == piece.size() && keep > 0) {
      keep = ExtendedPiece(begin, keep, text_.size()).size();
    }
    const size_t next = keep == 0 ? retry : std::max(begin + keep, retry);
    if (keep == 0) {
      Record(view_.to_original[whole_begin], next);
      return next;
    }
    const Span span = view_.ToOriginal(begin, begin + keep);
    Record(span.begin, next);  // Settled as its finding is.
    if (!rule_.Allowed(original_.substr(span.begin, span.end - span.begin))) {
      out_->push_back({&rule_, &entry_.entity_type, set_order_, span.begin, span.end});
    }
    return next;
  }

  // The finding at `begin`, `size` bytes so far, continued over the bytes entry_.extends
  // accepts, to at most `limit` bytes.
  re2::StringPiece ExtendedPiece(size_t begin, size_t size, size_t limit) const {
    size_t end = begin + size;
    while (end < text_.size() && end - begin < limit && entry_.extends(text_[end])) ++end;
    return re2::StringPiece(text_.data() + begin, end - begin);
  }

  void Record(uint32_t begin_original, size_t next) {
    if (chain_ != nullptr) chain_->push_back({begin_original, view_.to_original[std::min(next, text_.size())]});
  }

  const CompiledRule& rule_;
  const int set_order_;
  const PatternEntry& entry_;
  const std::string_view original_;
  const NormalizedText& view_;
  const std::string_view text_;
  const size_t start_;
  const bool whole_text_;
  absl::InlinedVector<re2::StringPiece, 4> groups_;  // Detectors have at most 3 groups.
  std::vector<Finding>* out_;
  std::vector<ChainStep>* chain_;
};

// Where a stream window's text must stay unsettled for the token growing at its end (see
// CompiledPolicies::kMaxHeldTokenBytes): that token's start less the context before it,
// at a character boundary; the text's size when it does not end in a token or the token is
// longer than the limit. A token is a run of printable ASCII (what keys, JWTs and URLs are
// made of): text in scripts written without spaces is not held as one.
uint32_t HeldTokenStart(std::string_view text) {
  size_t start = text.size();
  while (start > 0 && absl::ascii_isgraph(static_cast<unsigned char>(text[start - 1]))) {
    if (text.size() - start >= CompiledPolicies::kMaxHeldTokenBytes) return static_cast<uint32_t>(text.size());
    --start;
  }
  if (start == text.size()) return static_cast<uint32_t>(start);
  start = start > CompiledPolicies::kHeldTokenContextBytes ? start - CompiledPolicies::kHeldTokenContextBytes : 0;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return static_cast<uint32_t>(start);
}

// The view offset where `entry`'s search starts in this window (see FindAll).
size_t SearchStart(absl::Span<const SearchResume> resume, const PatternEntry* entry, int view_id,
                   const NormalizedText& view) {
  for (const SearchResume& r : resume) {
    if (r.entry == entry && r.view == view_id) {
      return std::lower_bound(view.to_original.begin(), view.to_original.end(), r.at) - view.to_original.begin();
    }
  }
  return 0;
}

// Runs a merged bank over a view: the prefilter picks the entries that match at all.
// Each entry's matches are recorded in `chains` (see EntryScan) unless it is null (a
// whole text, which no later window resumes).
void ScanBank(const CombinedBank& bank, std::string_view original, const NormalizedText& view, int view_id,
              bool term_lists_only, absl::Span<const SearchResume> resume, bool whole_text,
              std::vector<Finding>* out, std::vector<EntryChain>* chains) {
  std::vector<int> hits;  // RE2::Set takes a std::vector; one allocation per bank.
  hits.reserve(bank.entries.size());
  RE2::Set::ErrorInfo error;
  if (bank.prefilter == nullptr ||
      (!bank.prefilter->Match(view.text, &hits, &error) && error.kind != RE2::Set::kNoError)) {
    hits.clear();  // No prefilter (too large) or out of memory: run every entry instead.
    for (size_t k = 0; k < bank.entries.size(); ++k) hits.push_back(static_cast<int>(k));
  }
  std::sort(hits.begin(), hits.end());
  for (int k : hits) {
    const CombinedEntry& e = bank.entries[k];
    if (term_lists_only && !e.entry->term_list) continue;
    std::vector<ChainStep>* steps = nullptr;
    if (chains != nullptr) {
      EntryChain& chain = chains->emplace_back();
      chain.entry = e.entry;
      chain.view = view_id;
      steps = &chain.steps;
    }
    const size_t from = SearchStart(resume, e.entry, view_id, view);
    if (from > view.text.size()) continue;
    EntryScan(*e.set, e.set_order, *e.entry, original, view, from, whole_text, out, steps).Run();
  }
}

// For each pattern with a match that began before `settled`, where its next search starts.
std::vector<SearchResume> ResumePoints(const std::vector<EntryChain>& chains, uint32_t settled) {
  std::vector<SearchResume> resume;
  for (const EntryChain& chain : chains) {
    bool any = false;
    uint32_t next = 0;
    for (const ChainStep& step : chain.steps) {
      if (step.begin >= settled) continue;
      any = true;
      next = std::max(next, step.next);
    }
    if (any) resume.push_back({chain.entry, chain.view, next});
  }
  return resume;
}

bool FindingLess(const Finding& a, const Finding& b) {
  if (a.begin != b.begin) return a.begin < b.begin;
  if (a.end != b.end) return a.end < b.end;
  if (a.set_order != b.set_order) return a.set_order < b.set_order;
  if (a.rule->ordinal != b.rule->ordinal) return a.rule->ordinal < b.rule->ordinal;
  return *a.entity_type < *b.entity_type;
}

bool SameFinding(const Finding& a, const Finding& b) {
  return a.begin == b.begin && a.end == b.end && a.rule == b.rule &&
         *a.entity_type == *b.entity_type;
}

}  // namespace

std::vector<RedactionRegion> MergeRedactions(const std::vector<Finding>& findings) {
  std::vector<RedactionRegion> regions;
  regions.reserve(findings.size());
  for (const Finding& f : findings) {
    if (f.rule->shadow || f.rule->action != v1::REDACT || f.end <= f.begin) continue;
    if (!regions.empty() && f.begin < regions.back().end) {
      regions.back().end = std::max(regions.back().end, f.end);
      continue;
    }
    regions.push_back({f.begin, f.end, &f});
  }
  return regions;
}

void AppendRedacted(std::string_view text, uint32_t from, uint32_t to,
                    const std::vector<RedactionRegion>& regions, std::string* out) {
  uint32_t pos = from;
  for (const RedactionRegion& region : regions) {
    if (region.end <= from || region.begin >= to) continue;
    out->append(text.substr(pos, region.begin - pos));
    region.first->rule->redactor.AppendReplacement(text.substr(region.begin, region.end - region.begin), out);
    pos = region.end;
  }
  if (pos < to) out->append(text.substr(pos, to - pos));
}

std::shared_ptr<const CompiledPolicies> CompiledPolicies::Create(
    std::vector<std::unique_ptr<CompiledSet>> sets) {
  std::sort(sets.begin(), sets.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  Sha256 hasher;
  for (const auto& set : sets) {
    hasher.Update(absl::StrCat(set->id.size(), ":", set->id, set->canonical.size(), ":"));
    hasher.Update(set->canonical);
  }
  auto policies = std::shared_ptr<CompiledPolicies>(new CompiledPolicies());
  policies->sets_ = std::move(sets);
  policies->version_ = ToHex(hasher.Finish()).substr(0, 16);
  return policies;
}

absl::StatusOr<std::vector<const CompiledSet*>> CompiledPolicies::Resolve(
    absl::Span<const std::string> ids) const {
  std::vector<const CompiledSet*> sets;
  sets.reserve(ids.size());
  for (const std::string& id : ids) {
    auto it = std::lower_bound(sets_.begin(), sets_.end(), id,
                               [](const auto& set, const std::string& key) { return set->id < key; });
    if (it == sets_.end() || (*it)->id != id) {
      return absl::NotFoundError(absl::StrCat("unknown policy set '", id, "'"));
    }
    sets.push_back(it->get());
  }
  return sets;
}

std::shared_ptr<const Combination> CompiledPolicies::GetCombination(
    const std::vector<const CompiledSet*>& sets, v1::Direction direction) const {
  // The key, built without a heap allocation for the usual few sets (looked up as a view).
  absl::InlinedVector<char, 256> key;
  key.push_back(static_cast<char>('0' + DirectionIndex(direction)));
  for (const CompiledSet* set : sets) {
    key.push_back('\x1f');
    key.insert(key.end(), set->id.begin(), set->id.end());
  }
  const absl::string_view key_view(key.data(), key.size());
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = cache_.find(key_view);
    if (it != cache_.end()) return it->second;
  }
  // Built outside the lock; a concurrent first use may build it twice, harmlessly.
  std::shared_ptr<const Combination> built = BuildCombination(sets, DirectionIndex(direction));
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() < kMaxCachedCombinations) cache_.emplace(std::string(key_view), built);
  return built;
}

absl::Status CompiledPolicies::CheckSetIds(absl::Span<const std::string> ids) const {
  return Resolve(ids).status();
}

absl::StatusOr<size_t> CompiledPolicies::HoldBackBytes(absl::Span<const std::string> ids,
                                                       v1::Direction direction) const {
  if (absl::Status s = CheckDirection(direction); !s.ok()) return s;
  absl::StatusOr<std::vector<const CompiledSet*>> sets = Resolve(ids);
  if (!sets.ok()) return sets.status();
  size_t holdback = 0;
  for (const CompiledSet* set : *sets) {
    for (const PatternBank& bank : set->banks[DirectionIndex(direction)]) {
      holdback = std::max(holdback, bank.max_view_bytes);
    }
  }
  return holdback;
}

absl::StatusOr<WindowFindings> CompiledPolicies::FindAll(absl::Span<const std::string> ids,
                                                         v1::Direction direction,
                                                         std::string_view text,
                                                         size_t holdback,
                                                         absl::Span<const SearchResume> resume) const {
  if (absl::Status s = CheckDirection(direction); !s.ok()) return s;
  absl::StatusOr<std::vector<const CompiledSet*>> sets = Resolve(ids);
  if (!sets.ok()) return sets.status();
  Views views(text);
  WindowFindings result;
  result.findings.reserve(32);
  const std::shared_ptr<const Combination> combination = GetCombination(*sets, direction);
  std::vector<EntryChain> chains;
  const bool whole_text = holdback == 0;
  std::vector<EntryChain>* chain_sink = whole_text ? nullptr : &chains;
  for (int v = 0; v < kViewCount; ++v) {
    const CombinedBank& bank = combination->banks[v];
    if (bank.entries.empty()) continue;
    absl::StatusOr<const NormalizedText*> view = views.Get(static_cast<ViewKind>(v));
    if (!view.ok()) return view.status();
    ScanBank(bank, text, **view, v, false, resume, whole_text, &result.findings, chain_sink);
    if (!bank.has_term_lists) continue;
    if (const NormalizedText* despaced = views.Despaced(); despaced != nullptr) {
      ScanBank(bank, text, *despaced, kViewCount, true, resume, whole_text, &result.findings, chain_sink);
    }
  }
  // A text no rule reads still has to be valid UTF-8.
  if (absl::StatusOr<const NormalizedText*> v = views.Get(ViewKind::kLiteral); !v.ok()) {
    return v.status();
  }
  std::sort(result.findings.begin(), result.findings.end(),
            [](const Finding& a, const Finding& b) { return FindingLess(a, b); });
  result.findings.erase(
      std::unique(result.findings.begin(), result.findings.end(), SameFinding),
      result.findings.end());
  result.settled = whole_text ? views.Settled(holdback) : std::min(views.Settled(holdback), HeldTokenStart(text));
  result.context_start = views.ContextStart(result.settled, holdback);
  if (!whole_text) result.resume = ResumePoints(chains, result.settled);
  return result;
}

ScanResult CompiledPolicies::BuildResult(std::string_view text,
                                         const std::vector<Finding>& findings) {
  ScanResult result = Summarize(findings);
  result.redacted_text.reserve(text.size());
  AppendRedacted(text, 0, static_cast<uint32_t>(text.size()), MergeRedactions(findings),
                 &result.redacted_text);
  return result;
}

ScanResult CompiledPolicies::Summarize(const std::vector<Finding>& findings) {
  ScanResult result;
  result.matches.reserve(findings.size());
  for (const Finding& f : findings) {
    v1::RuleMatch& match = result.matches.emplace_back();
    match.set_rule_id(f.rule->id);
    match.set_policy_set(f.rule->set_id);
    match.set_entity_type(*f.entity_type);
    match.set_category(f.rule->category);
    match.set_action(f.rule->action);
    match.mutable_span()->set_begin(f.begin);
    match.mutable_span()->set_end(f.end);
    match.set_shadow(f.rule->shadow);
    if (f.rule->shadow) continue;
    if (f.rule->action == v1::BLOCK && result.action != v1::BLOCK) {
      result.block_message = f.rule->block_message;
    }
    result.action = std::max(result.action, f.rule->action);
  }
  return result;
}

absl::StatusOr<ScanResult> CompiledPolicies::Scan(absl::Span<const std::string> ids,
                                                  v1::Direction direction,
                                                  std::string_view text) const {
  absl::StatusOr<WindowFindings> found = FindAll(ids, direction, text, 0);
  if (!found.ok()) return found.status();
  return BuildResult(text, found->findings);
}

std::vector<std::string> CompiledPolicies::ListSets() const {
  std::vector<std::string> ids;
  for (const auto& set : sets_) ids.push_back(set->id);
  return ids;
}

absl::StatusOr<std::string> CompiledPolicies::GetSetTextProto(std::string_view id) const {
  for (const auto& set : sets_) {
    if (set->id == id) return set->text_proto;
  }
  return absl::NotFoundError(absl::StrCat("unknown policy set '", ToAbsl(id), "'"));
}

}  // namespace warden::policies
