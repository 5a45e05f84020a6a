// A training/evaluation row for tests that vary only the source and the harassment label:
// every other category is a negative. Header-only, testonly.
#ifndef WARDEN_TESTS_MODERATION_HARASSMENT_ROWS_H_
#define WARDEN_TESTS_MODERATION_HARASSMENT_ROWS_H_

#include <string>

#include "moderation/dataset.h"
#include "moderation/taxonomy.h"

namespace warden::moderation::testing {

inline Example HarassmentRow(const std::string& source, Label harassment) {
  Example e;
  e.text = "text";
  e.source = source;
  e.labels.fill(Label::kNegative);
  e.labels[CategoryIndex(warden::v1::HARASSMENT)] = harassment;
  return e;
}

}  // namespace warden::moderation::testing

#endif  // WARDEN_TESTS_MODERATION_HARASSMENT_ROWS_H_
