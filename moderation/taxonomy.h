// The fifteen moderation categories the classifiers score, and their stable text names.
//
// The names are the spellings of OpenAI's moderation endpoint ("harassment/threatening",
// "self-harm/intent", ...) plus Warden's "prompt-injection" and "jailbreak". They appear in
// JSON lines of the classifier tool, in training data and in model files, so they never
// change. The policy-filter categories of warden.v1.Category (PII and later) are not
// classifier categories and are rejected here.
//
// Thread safety: all functions are pure and thread-safe.
#ifndef WARDEN_MODERATION_TAXONOMY_H_
#define WARDEN_MODERATION_TAXONOMY_H_

#include <array>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/common.pb.h"

namespace warden::moderation {

// Number of classifier categories (HARASSMENT .. JAILBREAK).
inline constexpr int kNumCategories = 15;

// The categories in enum order; index i of a score vector belongs to kCategories[i].
extern const std::array<warden::v1::Category, kNumCategories> kCategories;

// Stable name of a classifier category, e.g. "harassment/threatening"; "" for any other
// enum value.
std::string_view CategoryName(warden::v1::Category category);

// The category called `name`; NotFound for an unknown name (matching is exact).
absl::StatusOr<warden::v1::Category> CategoryFromName(std::string_view name);

// Index of `category` in kCategories, or -1 when it is not a classifier category.
int CategoryIndex(warden::v1::Category category);

}  // namespace warden::moderation

#endif  // WARDEN_MODERATION_TAXONOMY_H_
