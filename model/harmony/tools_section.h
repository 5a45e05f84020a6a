// The `# Tools` section of system/developer messages and the JSON Schema -> TypeScript-like
// type rendering (shared/spec/harmony-format.md §7). Stateless functions; thread-safe.
#ifndef WARDEN_MODEL_HARMONY_TOOLS_SECTION_H_
#define WARDEN_MODEL_HARMONY_TOOLS_SECTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/harmony/message.h"
#include "nlohmann/json.hpp"

namespace warden::model::harmony {

// TS(schema, indent) of §7.1; object members are visited in document order.
std::string SchemaToTypeScript(const nlohmann::ordered_json& schema, const std::string& indent);

// Compact JSON as the reference prints defaults: no spaces, document order, floats in
// shortest round-trip form with a decimal point or exponent (`1.0`, `1.5e-7`).
std::string CompactJson(const nlohmann::ordered_json& value);

// "# Tools" followed by each namespace block, namespaces in byte-wise name order (a later
// namespace with the same name replaces an earlier one). InvalidArgument naming the tool if
// a parameters_json is not valid JSON or nests deeper than 64 levels.
absl::StatusOr<std::string> RenderToolsSection(const std::vector<ToolNamespace>& namespaces);

}  // namespace warden::model::harmony

#endif  // WARDEN_MODEL_HARMONY_TOOLS_SECTION_H_
