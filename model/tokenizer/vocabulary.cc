#include "model/tokenizer/vocabulary.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace warden::model {

absl::StatusOr<std::unique_ptr<const Vocabulary>> Vocabulary::Create(std::string arena,
                                                                     std::vector<uint32_t> offsets,
                                                                     uint32_t num_ordinary,
                                                                     std::string_view source) {
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != arena.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), ": inconsistent token offsets"));
  }
  const uint32_t size = static_cast<uint32_t>(offsets.size() - 1);
  if (num_ordinary > size) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": ", num_ordinary,
                                                   " ordinary tokens but only ", size, " ids"));
  }
  std::unique_ptr<Vocabulary> vocab(new Vocabulary());
  vocab->arena_ = std::move(arena);
  vocab->offsets_ = std::move(offsets);
  vocab->num_ordinary_ = num_ordinary;
  vocab->ranks_.reserve(num_ordinary);
  for (uint32_t id = 0; id < size; ++id) {
    if (vocab->offsets_[id + 1] <= vocab->offsets_[id]) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(source), ": token id ", id, " has no bytes"));
    }
    const std::string_view bytes = vocab->TokenBytes(id);
    auto& map = id < num_ordinary ? vocab->ranks_ : vocab->specials_;
    if (!map.emplace(bytes, id).second) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": token id ", id,
                                                     " repeats the bytes of id ",
                                                     map.find(bytes)->second));
    }
    if (id < num_ordinary) {
      vocab->max_ordinary_length_ = std::max(vocab->max_ordinary_length_, bytes.size());
    }
  }
  return std::unique_ptr<const Vocabulary>(std::move(vocab));
}

}  // namespace warden::model
