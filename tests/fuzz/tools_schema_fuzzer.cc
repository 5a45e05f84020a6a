// Tool parameter schemas (an app's FunctionTool.parameters_json_schema, JSON text) through
// the harmony tools section (JSON Schema -> TypeScript-like types). Checks, besides "no
// crash, no unbounded recursion": a schema is refused only as INVALID_ARGUMENT with a
// message naming the tool; a rendered section is valid UTF-8, starts with the section's
// header, and grows at most linearly with the schema (the renderer indents by nesting
// level, at most 64 levels).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "model/harmony/message.h"
#include "model/harmony/tools_section.h"
#include "model/tokenizer/utf8.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using warden::model::harmony::ToolDescription;
  using warden::model::harmony::ToolNamespace;
  const std::string schema(reinterpret_cast<const char*>(data), size);
  ToolNamespace functions{"functions", std::nullopt, {ToolDescription{"f", "A tool.", schema}}};
  const absl::StatusOr<std::string> section = warden::model::harmony::RenderToolsSection({functions});
  if (!section.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(section.status()), "a bad schema must be INVALID_ARGUMENT");
    FUZZ_CHECK(absl::StrContains(section.status().message(), "functions.f"), "the error must name the tool");
    return 0;
  }
  FUZZ_CHECK(warden::model::IsValidUtf8(*section), "the rendered section is not valid UTF-8");
  FUZZ_CHECK(absl::StartsWith(*section, "# Tools"), "the section lost its header");
  // 64 levels of 4-space indentation per line, a line per member: within ~300 bytes per
  // input byte, plus the fixed text.
  FUZZ_CHECK(section->size() <= 300 * size + 4096, "the rendered section grew faster than the schema");
  return 0;
}
