#include "model/tokenizer/vocab_loader.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/tokenizer/char_class.h"
#include "model/tokenizer/special_tokens.h"
#include "nlohmann/json.hpp"

namespace warden::model {
namespace {

// 0..63 for base64 digits, -1 otherwise.
constexpr std::array<int8_t, 256> MakeBase64Table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(digits[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kBase64 = MakeBase64Table();

// Decodes padded standard base64 and appends to `out`; false if malformed.
bool AppendBase64(std::string_view in, std::string* out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after padding
      v[k] = kBase64[static_cast<unsigned char>(c)];
      if (v[k] < 0) return false;
    }
    const uint32_t bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(static_cast<char>(bits >> 16));
    if (pad < 2) out->push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad < 1) out->push_back(static_cast<char>(bits & 0xFF));
  }
  return true;
}

bool ParseDecimal(std::string_view s, uint32_t* value) {
  if (s.empty() || s.size() > 9) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  *value = v;
  return true;
}

void AppendHarmonySpecials(std::string* arena, std::vector<uint32_t>* offsets) {
  for (uint32_t id = kO200kNumOrdinary; id < kO200kHarmonyVocabSize; ++id) {
    arena->append(HarmonySpecialTokenText(id));
    offsets->push_back(static_cast<uint32_t>(arena->size()));
  }
}

// Inverse of GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the
// other 68 bytes to U+0100.. in byte order.
std::array<int, 324> MakeByteLevelDecodeTable() {
  std::array<int, 324> table{};
  for (auto& v : table) v = -1;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    table[printable ? b : 256 + extra++] = b;
  }
  return table;
}

bool AppendByteLevelToken(std::string_view token, std::string* out) {
  static const std::array<int, 324> table = MakeByteLevelDecodeTable();
  if (token.empty()) return false;
  for (size_t pos = 0; pos < token.size();) {
    const Utf8Char c = DecodeCharAt(token, pos);
    if (c.cp >= table.size() || table[c.cp] < 0) return false;
    out->push_back(static_cast<char>(table[c.cp]));
    pos += c.length;
  }
  return true;
}

using Json = nlohmann::json;

// id -> content of `added_tokens`; error if malformed.
absl::StatusOr<std::map<uint32_t, std::string>> ReadAddedTokens(const Json& root,
                                                                std::string_view source) {
  std::map<uint32_t, std::string> added;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return added;
  if (!it->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), ": added_tokens is not an array"));
  }
  for (const Json& t : *it) {
    const auto id = t.find("id");
    const auto content = t.find("content");
    if (!t.is_object() || id == t.end() || !id->is_number_unsigned() || content == t.end() ||
        !content->is_string() || id->get<uint64_t>() >= (1u << 24)) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(source), ": added_tokens entry needs an id below 2^24 and a string content"));
    }
    added[id->get<uint32_t>()] = content->get<std::string>();
  }
  return added;
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::UnavailableError(absl::StrCat(path, ": cannot open: ", std::strerror(err)));
  }
  std::string contents;
  char buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), f)) > 0) contents.append(buffer, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::UnavailableError(absl::StrCat(path, ": read error"));
  return contents;
}

absl::StatusOr<std::unique_ptr<const Vocabulary>> ParseTiktokenVocabulary(std::string_view contents,
                                                                          std::string_view source) {
  std::string arena;
  arena.reserve(contents.size() * 3 / 4 + 64 * 1024);
  std::vector<uint32_t> offsets;
  offsets.reserve(contents.size() / 8 + 2048);
  offsets.push_back(0);
  size_t pos = 0;
  uint32_t line_no = 0;
  while (pos < contents.size()) {
    size_t eol = contents.find('\n', pos);
    if (eol == std::string_view::npos) eol = contents.size();
    const std::string_view line = contents.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    uint32_t rank = 0;
    if (space == std::string_view::npos || !ParseDecimal(line.substr(space + 1), &rank) ||
        !AppendBase64(line.substr(0, space), &arena)) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(source), ":", line_no, ": expected `base64 rank`"));
    }
    if (rank != offsets.size() - 1) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(source), ":", line_no, ": rank ",
                                                     rank, " out of order, expected ",
                                                     offsets.size() - 1));
    }
    offsets.push_back(static_cast<uint32_t>(arena.size()));
  }
  const uint32_t num_ordinary = static_cast<uint32_t>(offsets.size() - 1);
  if (num_ordinary == 0) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": no tokens"));
  }
  if (num_ordinary == kO200kNumOrdinary) AppendHarmonySpecials(&arena, &offsets);
  return Vocabulary::Create(std::move(arena), std::move(offsets), num_ordinary, source);
}

absl::StatusOr<std::unique_ptr<const Vocabulary>> ParseHuggingFaceVocabulary(
    std::string_view json_text, std::string_view source) {
  const Json root = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": not a JSON object"));
  }
  const auto model = root.find("model");
  if (model == root.end() || !model->is_object() || !model->contains("vocab") ||
      !(*model)["vocab"].is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(source), ": missing model.vocab object"));
  }
  auto added = ReadAddedTokens(root, source);
  if (!added.ok()) return added.status();

  const Json& vocab = (*model)["vocab"];
  // Ids must be 0..n-1 (n = entries), so n bounds every valid id and the allocation.
  const uint64_t max_id = vocab.size() + added->size();
  std::vector<std::string> by_id;
  for (const auto& [text, id_json] : vocab.items()) {
    if (!id_json.is_number_unsigned()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(source), ": model.vocab id is not unsigned"));
    }
    const uint64_t id64 = id_json.get<uint64_t>();
    if (id64 >= max_id || id64 >= (1u << 24)) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": model.vocab id ", id64,
                                                     " leaves gaps (", vocab.size(), " entries)"));
    }
    const uint32_t id = static_cast<uint32_t>(id64);
    if (added->count(id) > 0) continue;  // a special token listed in the vocab too
    if (by_id.size() <= id) by_id.resize(id + 1);
    std::string bytes;
    if (!AppendByteLevelToken(text, &bytes) || !by_id[id].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(std::string(source), ": model.vocab token id ",
                                                     id, " is duplicate or not byte-level text"));
    }
    by_id[id] = std::move(bytes);
  }
  std::string arena;
  std::vector<uint32_t> offsets{0};
  for (uint32_t id = 0; id < by_id.size(); ++id) {
    if (by_id[id].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(source), ": model.vocab lacks id ", id));
    }
    arena.append(by_id[id]);
    offsets.push_back(static_cast<uint32_t>(arena.size()));
  }
  const uint32_t num_ordinary = static_cast<uint32_t>(by_id.size());
  if (num_ordinary == kO200kNumOrdinary) {
    AppendHarmonySpecials(&arena, &offsets);
  } else {
    for (const auto& [id, content] : *added) {
      if (id != offsets.size() - 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(source), ": added token id ", id, " leaves a gap in the ids"));
      }
      arena.append(content);
      offsets.push_back(static_cast<uint32_t>(arena.size()));
    }
  }
  return Vocabulary::Create(std::move(arena), std::move(offsets), num_ordinary, source);
}

}  // namespace warden::model
