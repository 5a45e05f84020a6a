// Proto3 enums are open: the text and JSON parsers accept any number for an enum field
// (`action: 5`), and code that ranks enum values would misread it (5 ranks above BLOCK, so
// a later block is ignored). Configuration and policy files must name known values only.
// Pure function; thread-safe.
#ifndef WARDEN_PROTO_ENUM_VALUES_H_
#define WARDEN_PROTO_ENUM_VALUES_H_

#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace warden {

// One enum field holding a number its enum does not name.
struct UnknownEnumValue {
  // From the root message: (field name, index in a repeated field or -1) per level, the
  // enum field last.
  std::vector<std::pair<std::string, int>> path;
  int value = 0;
  std::string enum_name;  // e.g. "warden.v1.Action"
};

// Every enum field, in `message` and the messages it holds (maps included), whose value is
// not one of its enum's named values, in field order.
std::vector<UnknownEnumValue> FindUnknownEnumValues(const google::protobuf::Message& message);

}  // namespace warden

#endif  // WARDEN_PROTO_ENUM_VALUES_H_
