#include "proto/enum_values.h"

namespace warden {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void Walk(const Message& message, std::vector<std::pair<std::string, int>>* path,
          std::vector<UnknownEnumValue>* found) {
  const Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const int count = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      path->emplace_back(field->name(), field->is_repeated() ? i : -1);
      if (field->type() == FieldDescriptor::TYPE_ENUM) {
        const int value = field->is_repeated() ? reflection->GetRepeatedEnumValue(message, field, i)
                                               : reflection->GetEnumValue(message, field);
        if (field->enum_type()->FindValueByNumber(value) == nullptr) {
          found->push_back({*path, value, field->enum_type()->full_name()});
        }
      } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
        const Message& child = field->is_repeated() ? reflection->GetRepeatedMessage(message, field, i)
                                                    : reflection->GetMessage(message, field);
        Walk(child, path, found);
      }
      path->pop_back();
    }
  }
}

}  // namespace

std::vector<UnknownEnumValue> FindUnknownEnumValues(const Message& message) {
  std::vector<UnknownEnumValue> found;
  std::vector<std::pair<std::string, int>> path;
  Walk(message, &path, &found);
  return found;
}

}  // namespace warden
