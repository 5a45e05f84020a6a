// Tokenizer fuzzer. The input is used twice:
//  - as text: EncodeOrdinary must accept any bytes (invalid UTF-8 included), produce only
//    ordinary ids, and decode back to exactly the input bytes;
//  - as ids (fuzz_util.h encoding, including ids outside the vocabulary): DecodeBytes and
//    DecodeLossy fail exactly when an id is out of range, DecodeLossy is valid UTF-8 and
//    equals the lossy decoding of DecodeBytes, and an IncrementalDecoder fed the ids one
//    by one (rejecting the invalid ones without changing state) produces, with Flush, the
//    DecodeLossy of the valid ids.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/shared_data.h"

namespace warden::fuzz {
namespace {

void CheckEncodeRoundTrip(const model::Tokenizer& tokenizer, std::string_view text) {
  const std::vector<uint32_t> ids = tokenizer.EncodeOrdinary(text);
  for (uint32_t id : ids) {
    FUZZ_CHECK(id < tokenizer.num_ordinary_tokens(), "EncodeOrdinary produced a non-ordinary id");
  }
  FUZZ_CHECK(text.empty() == ids.empty(), "EncodeOrdinary: empty iff the text is empty");
  absl::StatusOr<std::string> decoded = tokenizer.DecodeBytes(ids);
  FUZZ_CHECK(decoded.ok(), "DecodeBytes rejected ids from EncodeOrdinary");
  FUZZ_CHECK(*decoded == text, "DecodeBytes(EncodeOrdinary(text)) != text");
}

std::vector<uint32_t> SpecialIds(const model::Tokenizer& tokenizer) {
  std::vector<uint32_t> ids;
  for (const char* name : {"<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>",
                           "<|call|>", "<|constrain|>", "<|endoftext|>", "<|startoftext|>"}) {
    absl::StatusOr<uint32_t> id = tokenizer.SpecialTokenId(name);
    if (id.ok()) ids.push_back(*id);
  }
  const uint32_t n = tokenizer.vocab_size();
  for (uint32_t id : {n - 1, n, n + 1, tokenizer.num_ordinary_tokens() - 1,
                      tokenizer.num_ordinary_tokens(), uint32_t{0xFFFFFFFF}}) {
    ids.push_back(id);
  }
  return ids;
}

void CheckDecoding(const model::Tokenizer& tokenizer, const std::vector<uint32_t>& ids) {
  bool all_valid = true;
  std::vector<uint32_t> valid;
  for (uint32_t id : ids) {
    if (id < tokenizer.vocab_size()) {
      valid.push_back(id);
    } else {
      all_valid = false;
    }
  }
  absl::StatusOr<std::string> bytes = tokenizer.DecodeBytes(ids);
  absl::StatusOr<std::string> lossy = tokenizer.DecodeLossy(ids);
  FUZZ_CHECK(bytes.ok() == all_valid, "DecodeBytes must fail exactly for out-of-range ids");
  FUZZ_CHECK(lossy.ok() == all_valid, "DecodeLossy must fail exactly for out-of-range ids");
  if (all_valid) {
    FUZZ_CHECK(model::IsValidUtf8(*lossy), "DecodeLossy produced invalid UTF-8");
    FUZZ_CHECK(*lossy == model::Utf8Lossy(*bytes), "DecodeLossy != Utf8Lossy(DecodeBytes)");
  }

  absl::StatusOr<std::string> expected = tokenizer.DecodeLossy(valid);
  FUZZ_CHECK(expected.ok(), "DecodeLossy rejected in-range ids");
  model::IncrementalDecoder decoder(&tokenizer);
  std::string streamed;
  for (uint32_t id : ids) {
    absl::StatusOr<std::string> piece = decoder.Feed(id);
    FUZZ_CHECK(piece.ok() == (id < tokenizer.vocab_size()),
               "IncrementalDecoder::Feed must fail exactly for out-of-range ids");
    if (piece.ok()) {
      FUZZ_CHECK(model::IsValidUtf8(*piece), "IncrementalDecoder emitted invalid UTF-8");
      streamed += *piece;
    }
  }
  streamed += decoder.Flush();
  FUZZ_CHECK(!decoder.has_pending_bytes(), "Flush must leave no pending bytes");
  FUZZ_CHECK(streamed == *expected, "IncrementalDecoder output != DecodeLossy");
}

}  // namespace
}  // namespace warden::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::fuzz;  // NOLINT: fuzzer entry point.
  const warden::model::Tokenizer& tokenizer = SharedTokenizer();
  static const std::vector<uint32_t>* const specials =
      new std::vector<uint32_t>(SpecialIds(tokenizer));
  CheckEncodeRoundTrip(tokenizer,
                       std::string_view(reinterpret_cast<const char*>(data), size));
  CheckDecoding(tokenizer, DecodeIds(data, size, *specials));
  return 0;
}
