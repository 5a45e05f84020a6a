// The special tokens of the o200k_harmony encoding (shared/spec/o200k-tokenizer.md §5):
// ids 199998..201087, 9 named tokens and `<|reserved_N|>` (N = id) for the rest.
// Constants and a pure function; thread-safe.
#ifndef WARDEN_MODEL_TOKENIZER_SPECIAL_TOKENS_H_
#define WARDEN_MODEL_TOKENIZER_SPECIAL_TOKENS_H_

#include <cstdint>
#include <string>

namespace warden::model {

inline constexpr uint32_t kO200kNumOrdinary = 199998;
inline constexpr uint32_t kO200kHarmonyVocabSize = 201088;

// Text of the o200k_harmony special token with this id; requires
// kO200kNumOrdinary <= id < kO200kHarmonyVocabSize.
std::string HarmonySpecialTokenText(uint32_t id);

}  // namespace warden::model

#endif  // WARDEN_MODEL_TOKENIZER_SPECIAL_TOKENS_H_
