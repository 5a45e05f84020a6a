// Converts harmony fixture JSON (tests/data/tokenizer/harmony_cases.jsonl) into the
// renderer's message types. Test-only; stateless.
#ifndef WARDEN_TESTS_HARMONY_FIXTURE_MESSAGES_H_
#define WARDEN_TESTS_HARMONY_FIXTURE_MESSAGES_H_

#include "model/harmony/message.h"
#include "model/harmony/renderer.h"
#include "nlohmann/json.hpp"

namespace warden::testing {

// One element of a case's `messages` array.
model::harmony::Message MessageFromJson(const nlohmann::ordered_json& j);
// A case's `mode`, `next_role` and `auto_drop_analysis`; constrain_json off, as the
// reference renders.
model::harmony::RenderOptions OptionsFromJson(const nlohmann::ordered_json& c);

}  // namespace warden::testing

#endif  // WARDEN_TESTS_HARMONY_FIXTURE_MESSAGES_H_
