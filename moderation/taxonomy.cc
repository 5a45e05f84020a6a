#include "moderation/taxonomy.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace warden::moderation {
namespace {

using warden::v1::Category;

struct NamedCategory {
  Category category;
  std::string_view name;
};

// One table drives both directions of the conversion.
constexpr std::array<NamedCategory, kNumCategories> kNamed = {{
    {warden::v1::HARASSMENT, "harassment"},
    {warden::v1::HARASSMENT_THREATENING, "harassment/threatening"},
    {warden::v1::HATE, "hate"},
    {warden::v1::HATE_THREATENING, "hate/threatening"},
    {warden::v1::ILLICIT, "illicit"},
    {warden::v1::ILLICIT_VIOLENT, "illicit/violent"},
    {warden::v1::SELF_HARM, "self-harm"},
    {warden::v1::SELF_HARM_INTENT, "self-harm/intent"},
    {warden::v1::SELF_HARM_INSTRUCTIONS, "self-harm/instructions"},
    {warden::v1::SEXUAL, "sexual"},
    {warden::v1::SEXUAL_MINORS, "sexual/minors"},
    {warden::v1::VIOLENCE, "violence"},
    {warden::v1::VIOLENCE_GRAPHIC, "violence/graphic"},
    {warden::v1::PROMPT_INJECTION, "prompt-injection"},
    {warden::v1::JAILBREAK, "jailbreak"},
}};

}  // namespace

const std::array<Category, kNumCategories> kCategories = [] {
  std::array<Category, kNumCategories> out{};
  for (int i = 0; i < kNumCategories; ++i) out[i] = kNamed[i].category;
  return out;
}();

std::string_view CategoryName(Category category) {
  const int index = CategoryIndex(category);
  return index < 0 ? std::string_view() : kNamed[index].name;
}

absl::StatusOr<Category> CategoryFromName(std::string_view name) {
  for (const NamedCategory& named : kNamed) {
    if (named.name == name) return named.category;
  }
  return absl::NotFoundError(absl::StrCat("unknown moderation category name \"", std::string(name), "\""));
}

int CategoryIndex(Category category) {
  const int value = static_cast<int>(category);
  const int index = value - static_cast<int>(warden::v1::HARASSMENT);
  if (index < 0 || index >= kNumCategories) return -1;
  return index;
}

}  // namespace warden::moderation
