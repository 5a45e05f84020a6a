// Classifier model fuzzer: the input is a .wmod file (moderation/model_file.h), as an
// operator might point Warden at a damaged or hostile one. The first byte is an option:
// bit 0 set rewrites the file's trailing CRC-32 to match its bytes, so that mutations reach
// the structural checks behind the checksum. Contract:
//  - ParseModelFile fails with DATA_LOSS or INVALID_ARGUMENT and a message, or
//  - its contents serialise, and the serialised file parses back to the same bytes; and
//    FastClassifier::FromContents either refuses them with a message or gives a classifier
//    whose every score, for a few texts, is a number in [0, 1].
// No input may abort, allocate without bound or read out of bounds (ASan, UBSan).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "moderation/fast_classifier.h"
#include "moderation/model_file.h"
#include "tests/fuzz/fuzz_util.h"

namespace warden::fuzz {
namespace {

using moderation::ModelFileContents;

void CheckScores(const moderation::FastClassifier& classifier) {
  for (std::string_view text : {std::string_view(""), std::string_view("I will hurt you"),
                                std::string_view("a longer text: with words, numbers 123 and \xc3\xa9t\xc3\xa9")}) {
    const moderation::CategoryScores scores = classifier.Score(text);
    for (float s : scores.scores) FUZZ_CHECK(s >= 0.0f && s <= 1.0f, "a score outside [0, 1] (or NaN)");
  }
}

}  // namespace
}  // namespace warden::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::fuzz;  // NOLINT: fuzzer entry point.
  using namespace warden::moderation;  // NOLINT
  if (size == 0) return 0;
  std::string file(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) != 0 && file.size() >= 4) {
    const uint32_t crc = Crc32(std::string_view(file).substr(0, file.size() - 4));
    std::memcpy(file.data() + file.size() - 4, &crc, sizeof(crc));
  }
  absl::StatusOr<ModelFileContents> contents = ParseModelFile(file, "fuzz.wmod");
  if (!contents.ok()) {
    FUZZ_CHECK(contents.status().code() == absl::StatusCode::kDataLoss ||
                   contents.status().code() == absl::StatusCode::kInvalidArgument,
               "a refused model file must be DATA_LOSS or INVALID_ARGUMENT");
    FUZZ_CHECK(!contents.status().message().empty(), "error without a message");
    return 0;
  }
  const absl::StatusOr<std::string> written = SerializeModelFile(*contents);
  FUZZ_CHECK(written.ok(), "parsed contents do not serialise");
  const absl::StatusOr<ModelFileContents> again = ParseModelFile(*written, "again.wmod");
  FUZZ_CHECK(again.ok(), "a serialised model does not parse");
  const absl::StatusOr<std::string> rewritten = SerializeModelFile(*again);
  FUZZ_CHECK(rewritten.ok() && *rewritten == *written, "serialise -> parse -> serialise changed the bytes");
  const auto classifier = FastClassifier::FromContents(*contents);
  if (!classifier.ok()) {
    FUZZ_CHECK(!classifier.status().message().empty(), "error without a message");
    return 0;
  }
  CheckScores(**classifier);
  return 0;
}
