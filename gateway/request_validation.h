// Checks a request before anything else looks at it: sizes, UTF-8, roles, counts.
// INVALID_ARGUMENT (naming the field) or RESOURCE_EXHAUSTED (naming the limit).
#ifndef WARDEN_GATEWAY_REQUEST_VALIDATION_H_
#define WARDEN_GATEWAY_REQUEST_VALIDATION_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "proto/config.pb.h"
#include "proto/warden.pb.h"

namespace warden::gateway {

// Stop sequences a request may give, and the bytes of each. Both bound the output's
// hold-back: text that could still start a stop sequence is kept back (up to the longest
// one, less a byte) and flushed in one event when generation ends, which must stay below
// the hold-back queue's high watermark (generate_call.cc) and cheap to search every token.
inline constexpr int kMaxStopSequences = 16;
// Tools per request (as OpenAI's API allows); also keeps the findings' text_index ranges of
// tool descriptions (-100 - i) and schemas (-1000 - i) apart.
inline constexpr int kMaxTools = 128;
// GenerateRequest.metadata: tags stored with the audit record whatever its retention, so
// bounded like tags, not like content.
inline constexpr int kMaxMetadataEntries = 32;
inline constexpr size_t kMaxMetadataKeyBytes = 64;
inline constexpr size_t kMaxMetadataValueBytes = 512;
inline constexpr size_t kMaxStopSequenceBytes = 1024;

// Bounds on a tool's parameters_json_schema, checked while it is read, before anything
// builds it: the renderer parses it order-preserving (a linear key lookup per member, so an
// object's parse is quadratic in its members), and recurses once per nesting level (the
// renderer's own bound is the same 64). A "node" is any JSON value: object, array, string,
// number, boolean or null.
inline constexpr size_t kMaxSchemaObjectMembers = 1000;
inline constexpr size_t kMaxSchemaNodes = 10000;
inline constexpr int kMaxSchemaDepth = 64;

absl::Status ValidateGenerateRequest(const v1::GenerateRequest& request, const v1::Limits& limits);
absl::Status ValidateModerateRequest(const v1::ModerateRequest& request, const v1::Limits& limits);

// The text the input checks read for a tool's parameters_json_schema: every object key and
// every string value, in document order, one per line (empty ones left out). That is every
// piece of text the renderer can write into the prompt from a schema (property names,
// descriptions, titles, examples, enum values, string defaults, type names), and more: keys
// such as "type" or "properties" are structure the renderer does not print. Call it on a
// schema ValidateGenerateRequest accepted; "" for an empty one.
std::string ToolSchemaText(const std::string& schema);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_REQUEST_VALIDATION_H_
