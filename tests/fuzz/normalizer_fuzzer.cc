// Normaliser fuzzer. Byte 0 chooses the options (bit 0: no leetspeak folding, bit 1: no
// homoglyph folding, bit 2: remove diacritics, bit 3: keep case); the rest is the text.
// Checks the documented contract: Normalize fails exactly for invalid UTF-8; otherwise the
// text is valid UTF-8, to_original has text.size() + 1 entries, is non-decreasing, points
// at character starts of the input and ends at the input size; ToOriginal returns spans
// inside the input on character boundaries, empty for empty (or clamped) arguments.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/tokenizer/utf8.h"
#include "policies/normalizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace warden::fuzz {
namespace {

using policies::NormalizedText;
using policies::NormalizeOptions;

bool IsCharStart(std::string_view text, size_t offset) {
  return offset >= text.size() || (static_cast<unsigned char>(text[offset]) & 0xC0) != 0x80;
}

NormalizeOptions OptionsFrom(uint8_t byte) {
  NormalizeOptions options;
  options.fold_leetspeak = (byte & 1) == 0;
  options.fold_homoglyphs = (byte & 2) == 0;
  options.remove_diacritics = (byte & 4) != 0;
  options.case_fold = (byte & 8) == 0;
  return options;
}

void CheckOffsetMap(std::string_view input, const NormalizedText& normalized) {
  const auto& map = normalized.to_original;
  FUZZ_CHECK(map.size() == normalized.text.size() + 1, "to_original size != text size + 1");
  FUZZ_CHECK(map.back() == input.size(), "to_original must end at the input size");
  for (size_t i = 0; i < map.size(); ++i) {
    FUZZ_CHECK(map[i] <= input.size(), "to_original points past the input");
    FUZZ_CHECK(i == 0 || map[i - 1] <= map[i], "to_original is not non-decreasing");
    FUZZ_CHECK(IsCharStart(input, map[i]), "to_original points inside a character");
  }
}

void CheckSpan(std::string_view input, const NormalizedText& normalized, size_t begin,
               size_t end) {
  const policies::Span span = normalized.ToOriginal(begin, end);
  FUZZ_CHECK(span.begin <= span.end, "ToOriginal: begin > end");
  FUZZ_CHECK(span.end <= input.size(), "ToOriginal: span past the input");
  FUZZ_CHECK(IsCharStart(input, span.begin) && IsCharStart(input, span.end),
             "ToOriginal: span splits a character");
  const size_t size = normalized.text.size();
  if (std::min(begin, size) >= std::min(end, size)) {
    FUZZ_CHECK(span.begin == span.end, "ToOriginal: an empty span must map to an empty span");
  }
}

void CheckSpans(std::string_view input, const NormalizedText& normalized) {
  const size_t size = normalized.text.size();
  // Every prefix, suffix and a sliding window: O(n) calls, enough to reach every entry.
  for (size_t i = 0; i <= size; ++i) {
    CheckSpan(input, normalized, 0, i);
    CheckSpan(input, normalized, i, size);
    CheckSpan(input, normalized, i, i + 3);
    CheckSpan(input, normalized, i, i);
  }
  CheckSpan(input, normalized, size + 1, size + 100);
  CheckSpan(input, normalized, 5, 2);
  CheckSpan(input, normalized, 0, static_cast<size_t>(-1));
}

}  // namespace
}  // namespace warden::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::fuzz;  // NOLINT: fuzzer entry point.
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<warden::policies::NormalizedText> normalized =
      warden::policies::Normalize(input, OptionsFrom(data[0]));
  FUZZ_CHECK(normalized.ok() == warden::model::IsValidUtf8(input),
             "Normalize must fail exactly for invalid UTF-8");
  if (!normalized.ok()) return 0;
  FUZZ_CHECK(warden::model::IsValidUtf8(normalized->text), "normalised text is not UTF-8");
  CheckOffsetMap(input, *normalized);
  CheckSpans(input, *normalized);
  return 0;
}
