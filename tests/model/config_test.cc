// Config parsing for both checkpoint layouts, derived fields and error messages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>
#include <vector>
#include <string>

#include "model/config.h"

namespace warden::model {
namespace {

constexpr char kTinyDir[] = "tests/data/gpt-oss-tiny";

TEST(Config, ParsesHfAndOriginalFixtureConfigsIdentically) {
  auto hf = LoadConfig(kTinyDir);
  auto original = LoadConfig(std::string(kTinyDir) + "/original");
  ASSERT_TRUE(hf.ok()) << hf.status();
  ASSERT_TRUE(original.ok()) << original.status();
  for (const ModelConfig* c : {&*hf, &*original}) {
    EXPECT_EQ(c->num_layers, 4);
    EXPECT_EQ(c->num_experts, 8);
    EXPECT_EQ(c->experts_per_token, 4);
    EXPECT_EQ(c->sliding_window, 8);
    EXPECT_EQ(c->head_dim, 16);
    EXPECT_FLOAT_EQ(c->rope.factor, 32.0f);
    EXPECT_FLOAT_EQ(c->rope.beta_fast, 32.0f);
    EXPECT_FLOAT_EQ(c->rope.beta_slow, 1.0f);
    EXPECT_EQ(c->rope.original_context, 4096);
    EXPECT_EQ(c->layer_types,
              (std::vector<AttentionType>{AttentionType::kSliding, AttentionType::kFull,
                                          AttentionType::kSliding, AttentionType::kFull}));
  }
}

std::string MinimalHf(const std::string& extra) {
  return R"({"num_hidden_layers": 3, "hidden_size": 64, "intermediate_size": 64,
    "num_local_experts": 4, "num_experts_per_tok": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 100, "sliding_window": 8)" +
         extra + "}";
}

TEST(Config, DerivesLayerTypesAndAcceptsRopeParameters) {
  auto c = ParseHfConfig(MinimalHf(R"(, "rope_parameters": {"rope_type": "yarn", "factor": 8.0,
      "original_max_position_embeddings": 2048, "beta_fast": 16, "beta_slow": 2})"),
                         "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->layer_types, (std::vector<AttentionType>{AttentionType::kSliding, AttentionType::kFull,
                                                        AttentionType::kSliding}));
  EXPECT_FLOAT_EQ(c->rope.factor, 8.0f);
  EXPECT_EQ(c->rope.original_context, 2048);
  EXPECT_FLOAT_EQ(c->rope.beta_fast, 16.0f);
}

TEST(Config, ReadsTruncateAndTreatsDefaultRopeAsPlain) {
  auto truncated = ParseHfConfig(MinimalHf(R"(, "rope_scaling": {"rope_type": "yarn", "factor": 8.0,
      "beta_fast": 16, "beta_slow": 2, "truncate": true})"),
                                 "config.json");
  ASSERT_TRUE(truncated.ok()) << truncated.status();
  EXPECT_TRUE(truncated->rope.truncate);
  auto again = ParseHfConfig(ToHfConfigJson(*truncated), "round-trip");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->rope.truncate);

  auto absent = ParseHfConfig(MinimalHf(R"(, "rope_scaling": {"rope_type": "yarn", "factor": 8.0})"), "config.json");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->rope.truncate);

  auto plain = ParseHfConfig(MinimalHf(R"(, "rope_scaling": {"rope_type": "default", "factor": 8.0})"), "config.json");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FLOAT_EQ(plain->rope.factor, 1.0f);
}

TEST(Config, RefusesRopeFieldsOfTheWrongType) {
  for (const char* rope : {R"({"rope_type": 3})", R"({"rope_type": "linear"})", R"({"truncate": "no"})",
                           R"({"truncate": 0})"}) {
    auto c = ParseHfConfig(MinimalHf(std::string(R"(, "rope_scaling": )") + rope), "config.json");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << rope;
    EXPECT_NE(c.status().message().find("rope_scaling."), absl::string_view::npos) << c.status();
  }
}

// Found by the model_config fuzzer: 1e207 became an infinite rms_norm_eps, accepted, and
// written back as null.
TEST(Config, RefusesNumbersBeyondFloatRange) {
  for (const char* field : {R"(, "rms_norm_eps": 1e207)", R"(, "swiglu_limit": -1e39)", R"(, "rope_theta": 1e300)",
                            R"(, "rope_scaling": {"factor": 1e40})"}) {
    auto c = ParseHfConfig(MinimalHf(field), "config.json");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(c.status().message().find("finite"), absl::string_view::npos) << c.status();
  }
  ModelConfig config = *ParseHfConfig(MinimalHf(""), "config.json");
  config.rms_norm_eps = std::numeric_limits<float>::infinity();
  EXPECT_EQ(config.Validate().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Config, ErrorsNameTheFileAndField) {
  auto bad_json = ParseHfConfig("{not json", "x/config.json");
  EXPECT_EQ(bad_json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_json.status().message().find("x/config.json"), absl::string_view::npos);

  auto missing = ParseHfConfig(R"({"hidden_size": 64})", "config.json");
  EXPECT_NE(missing.status().message().find("num_hidden_layers"), absl::string_view::npos) << missing.status();

  auto wrong_type = ParseHfConfig(MinimalHf(R"(, "rms_norm_eps": "small")"), "config.json");
  EXPECT_NE(wrong_type.status().message().find("rms_norm_eps"), absl::string_view::npos) << wrong_type.status();

  auto bad_gqa = ParseHfConfig(MinimalHf("").replace(MinimalHf("").find("\"num_key_value_heads\": 2"), 24,
                                                     "\"num_key_value_heads\": 3"),
                               "config.json");
  EXPECT_NE(bad_gqa.status().message().find("num_key_value_heads"), absl::string_view::npos) << bad_gqa.status();

  auto bad_types = ParseHfConfig(MinimalHf(R"(, "layer_types": ["full_attention"])"), "config.json");
  EXPECT_NE(bad_types.status().message().find("layer_types"), absl::string_view::npos) << bad_types.status();
}

TEST(Config, GenerationDefaultsAbsentFileGivesEmptyDefaults) {
  auto defaults = LoadGenerationDefaults(kTinyDir);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_FALSE(defaults->temperature.has_value());
}

std::string TempDirWithGenerationConfig(const std::string& name, const std::string& json) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/generation_config.json") << json;
  return dir;
}

// Null is unset; do_sample false means greedy (Hugging Face); a value no request could
// carry is a load error naming the file and field, not an INVALID_ARGUMENT on every request.
TEST(Config, GenerationDefaultsReadNullDoSampleAndRefuseBadValues) {
  auto nulls = LoadGenerationDefaults(TempDirWithGenerationConfig(
      "gen_nulls", R"({"temperature": null, "top_p": null, "top_k": null, "do_sample": null})"));
  ASSERT_TRUE(nulls.ok()) << nulls.status();
  EXPECT_FALSE(nulls->temperature.has_value());
  EXPECT_FALSE(nulls->top_p.has_value());
  EXPECT_FALSE(nulls->top_k.has_value());
  auto greedy = LoadGenerationDefaults(
      TempDirWithGenerationConfig("gen_greedy", R"({"temperature": 0.7, "top_p": 0.9, "do_sample": false})"));
  ASSERT_TRUE(greedy.ok()) << greedy.status();
  EXPECT_EQ(greedy->temperature, 0.0f);
  EXPECT_EQ(greedy->top_p, 0.9f);
  auto sampled = LoadGenerationDefaults(
      TempDirWithGenerationConfig("gen_sampled", R"({"temperature": 0.7, "do_sample": true})"));
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  EXPECT_EQ(sampled->temperature, 0.7f);
  for (const auto& [json, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"top_p": 0})", "top_p"},
           {R"({"top_p": 1.5})", "top_p"},
           {R"({"temperature": -1})", "temperature"},
           {R"({"top_k": -1})", "top_k"},
           {R"({"do_sample": "no"})", "do_sample"}}) {
    auto bad = LoadGenerationDefaults(TempDirWithGenerationConfig("gen_bad", json));
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_NE(bad.status().message().find(field), absl::string_view::npos) << bad.status();
    EXPECT_NE(bad.status().message().find("generation_config.json"), absl::string_view::npos) << bad.status();
  }
}

// A null rope_parameters beside a real rope_scaling (files written during the rename) does
// not switch YaRN off.
TEST(Config, NullRopeParametersFallBackToRopeScaling) {
  auto c = ParseHfConfig(MinimalHf(R"(, "rope_parameters": null, "rope_scaling": {"rope_type": "yarn",
      "factor": 8.0, "beta_fast": 16, "beta_slow": 2})"),
                         "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FLOAT_EQ(c->rope.factor, 8.0f);
  EXPECT_FLOAT_EQ(c->rope.beta_fast, 16.0f);
}

TEST(Config, ReadsTieWordEmbeddings) {
  auto tied = ParseHfConfig(MinimalHf(R"(, "tie_word_embeddings": true)"), "config.json");
  ASSERT_TRUE(tied.ok()) << tied.status();
  EXPECT_TRUE(tied->tie_word_embeddings);
  auto again = ParseHfConfig(ToHfConfigJson(*tied), "round-trip");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->tie_word_embeddings);
  auto untied = ParseHfConfig(MinimalHf(""), "config.json");
  ASSERT_TRUE(untied.ok());
  EXPECT_FALSE(untied->tie_word_embeddings);
  auto bad = ParseHfConfig(MinimalHf(R"(, "tie_word_embeddings": "yes")"), "config.json");
  EXPECT_NE(bad.status().message().find("tie_word_embeddings"), absl::string_view::npos) << bad.status();
}

TEST(Config, HfJsonRoundTrips) {
  auto c = ParseHfConfig(MinimalHf(""), "config.json");
  ASSERT_TRUE(c.ok());
  auto again = ParseHfConfig(ToHfConfigJson(*c), "round-trip");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->hidden_size, 64);
  EXPECT_EQ(again->layer_types, c->layer_types);
  EXPECT_FLOAT_EQ(again->rope.factor, 1.0f);
}

}  // namespace
}  // namespace warden::model
