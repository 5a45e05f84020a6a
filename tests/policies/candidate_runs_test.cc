#include "policies/candidate_runs.h"

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace warden::policies {
namespace {

using Windows = std::vector<std::pair<size_t, size_t>>;

bool In(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

// The windows by definition: every maximal run, filtered, widened, merged.
Windows ExpectedWindows(const CandidateRuns& runs, const std::string& text) {
  Windows windows;
  for (size_t i = 0; i < text.size();) {
    if (!In(runs.bytes, text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    size_t required = 0;
    bool also = false;
    for (; end < text.size() && In(runs.bytes, text[end]); ++end) {
      required += In(runs.required, text[end]) ? 1 : 0;
      also = also || In(runs.also_required, text[end]);
    }
    const bool candidate = end - i >= std::max<size_t>(runs.min_run, 1) &&
                           (runs.required.empty() || required >= runs.min_required) &&
                           (runs.also_required.empty() || also);
    if (candidate) {
      const size_t from = i > runs.before ? i - runs.before : 0;
      const size_t to = std::min(text.size(), end + runs.after);
      if (!windows.empty() && from <= windows.back().second) {
        windows.back().second = std::max(windows.back().second, to);
      } else {
        windows.push_back({from, to});
      }
    }
    i = end;
  }
  return windows;
}

Windows ActualWindows(const CandidateRuns& runs, const std::string& text) {
  const RunClasses classes(runs);
  CandidateWindows windows(classes, text);
  Windows out;
  while (windows.Next()) out.push_back({windows.begin(), windows.end()});
  return out;
}

std::string RandomText(std::mt19937& rng, std::string_view alphabet, size_t max_size) {
  std::string text(rng() % max_size, ' ');
  for (char& c : text) c = alphabet[rng() % alphabet.size()];
  return text;
}

TEST(CandidateWindows, MergesWindowsAroundDigitRunsWithEnoughDigits) {
  const CandidateRuns runs = {"0123456789 -", "0123456789", 5, 4, 4, 7};
  const std::string text = "call 555 0100 or 020 7946 0958 today, ref 12 34";
  // "555 0100" has 7 digits, "020 7946 0958" 11; " 12 34" only 4.
  EXPECT_EQ(ActualWindows(runs, text), ExpectedWindows(runs, text));
  EXPECT_EQ(ActualWindows(runs, text), (Windows{{0, 35}}));
}

TEST(CandidateWindows, FindsNothingWithoutRequiredBytes) {
  const CandidateRuns runs = {"0123456789abcdef.:", "0123456789:", 2, 4, 4, 1, ".:"};
  EXPECT_TRUE(ActualWindows(runs, "a bad face, decade after decade").empty());
  EXPECT_EQ(ActualWindows(runs, "host 10.0.0.1 up"), (Windows{{1, 16}}));
}

TEST(CandidateWindows, MatchesTheDefinitionOnRandomTexts) {
  const CandidateRuns digit_runs = {"0123456789 .-()+", "0123456789", 5, 4, 4, 7};
  const CandidateRuns hex_runs = {"0123456789abcdefABCDEF.:", "0123456789:", 2, 4, 4, 1, ".:"};
  const CandidateRuns base64_runs = {"ABCabc0123+/_-", "", 24, 4, 6};
  std::mt19937 rng(5);
  for (int i = 0; i < 3000; ++i) {
    for (const CandidateRuns* runs : {&digit_runs, &hex_runs, &base64_runs}) {
      const std::string text = RandomText(rng, "0123456789 .-:()+abcfxyzAB/_=\xC3\xA9", 200);
      ASSERT_EQ(ActualWindows(*runs, text), ExpectedWindows(*runs, text)) << text;
    }
  }
}

TEST(RunClasses, NextRequiredFindsTheFirstRequiredByte) {
  std::mt19937 rng(9);
  for (std::string_view required : {"0123456789", "0123456789:", "0123456789:.", "ab:"}) {
    const RunClasses classes({"0123456789abcdef.:", required});
    for (int i = 0; i < 2000; ++i) {
      const std::string text = RandomText(rng, "xyz .-:ab9\x80\xFF", 40);
      for (size_t from = 0; from <= text.size(); ++from) {
        size_t expected = from;
        while (expected < text.size() && !In(required, text[expected])) ++expected;
        ASSERT_EQ(classes.NextRequired(text, from), expected) << text << " from " << from;
      }
    }
  }
}

TEST(CandidateWindows, SkipsRunsTooShortForAMatch) {
  const CandidateRuns runs = {"0123456789 -", "0123456789", 12, 4, 4, 12};
  const std::string text = "card 4111 1111 1111 1111, phone 555 0100";
  const RunClasses classes(runs);
  CandidateWindows windows(classes, text);
  ASSERT_TRUE(windows.Next());
  EXPECT_EQ(windows.begin(), 0u);
  EXPECT_TRUE(windows.MayMatchFrom(5));
  // After the card, fewer than 12 bytes of its run are left: no further match can start.
  EXPECT_FALSE(windows.MayMatchFrom(24));
  EXPECT_FALSE(windows.Next());
}

TEST(CandidateWindows, ResumesAfterTheRunWhenRunsHostOneMatch) {
  const CandidateRuns runs = {"0123456789.:", "0123456789:", 2, 4, 4, 1, ".:", true};
  const std::string text = "ip 10.20.30.40 and 10.0.0.1";
  const RunClasses classes(runs);
  CandidateWindows windows(classes, text);
  ASSERT_TRUE(windows.Next());
  EXPECT_EQ(windows.ResumeAfterMatch(4), 14u);  // A rejected match at 3: skip the run.
}

}  // namespace
}  // namespace warden::policies
