// Model config fuzzer: the input is a checkpoint's config.json (Hugging Face or original
// layout), as a damaged or hostile checkpoint might carry. Contract: ParseConfig fails with
// a message, or gives a config that passes Validate, whose Hugging Face serialisation
// parses back to a config with the same serialisation. No input may abort or throw.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using warden::model::ModelConfig;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<ModelConfig> config = warden::model::ParseConfig(text, "fuzz/config.json");
  if (!config.ok()) {
    FUZZ_CHECK(!config.status().message().empty(), "error without a message");
    return 0;
  }
  FUZZ_CHECK(config->Validate().ok(), "ParseConfig returned a config that fails Validate");
  const std::string json = warden::model::ToHfConfigJson(*config);
  const absl::StatusOr<ModelConfig> again = warden::model::ParseConfig(json, "again/config.json");
  FUZZ_CHECK(again.ok(), "a serialised config does not parse");
  FUZZ_CHECK(warden::model::ToHfConfigJson(*again) == json, "serialise -> parse -> serialise changed the config");
  return 0;
}
