#include "gateway/config_loader.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

constexpr char kValid[] = R"(
model { model_dir: "m" }
audit { path: "a/audit.db" }
policy_files: "p.textproto"
apps {
  id: "demo"
  api_keys { sha256: "e8868135c5eb574ea37ee82b81bb0dcbde9ac25838f869a7f13b93054c59f3d4" role: APP }
}
)";

TEST(ConfigLoader, ValidConfigResolvesPathsAgainstItsFolder) {
  auto loaded = ParseServerConfig(kValid, "/etc/w/config.textproto", "/etc/w");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.model().model_dir(), "/etc/w/m");
  EXPECT_EQ(loaded->config.audit().path(), "/etc/w/a/audit.db");
  EXPECT_EQ(loaded->config.policy_files(0), "/etc/w/p.textproto");
}

struct BadCase {
  const char* name;
  std::string text;
  std::string expected;  // Substring of the error: file:line and field.
};

class ConfigLoaderBad : public testing::TestWithParam<BadCase> {};

TEST_P(ConfigLoaderBad, ReportsFileLineAndField) {
  auto loaded = ParseServerConfig(GetParam().text, "c.textproto", ".");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(loaded.status().message()).find(GetParam().expected), std::string::npos)
      << loaded.status().message();
}

const std::string kHeader = "model { model_dir: \"m\" }\naudit { path: \"a\" }\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigLoaderBad,
    testing::Values(
        BadCase{"UnknownField", kHeader + "apps { id: \"x\" colour: 3 }\n", "c.textproto:3:"},
        BadCase{"SyntaxError", kHeader + "apps { id: \n", "c.textproto:4:"},
        BadCase{"BadKeyHash", kHeader + "apps {\n id: \"x\"\n api_keys { sha256: \"abc\" role: APP }\n}\n",
                "c.textproto:5:"},
        BadCase{"HashOfTheEmptyKey",
                kHeader + "apps { id: \"x\"\n api_keys { sha256: "
                          "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\" role: APP } }\n",
                "c.textproto:4:13: apps[0].api_keys[0].sha256: is the SHA-256 of the empty string"},
        BadCase{"MissingRole",
                kHeader + "apps { id: \"x\" api_keys { sha256: \"" + std::string(64, 'a') + "\" } }\n",
                "c.textproto:3:16: apps[0].api_keys[0].role: must be APP or ADMIN"},  // Where the key opens.
        BadCase{"DuplicateApp", kHeader + "apps { id: \"x\" }\napps { id: \"x\" }\n", "c.textproto:4:"},
        BadCase{"ThresholdOutOfRange",
                kHeader + "apps { id: \"x\"\n input_moderation { categories { category: HATE threshold: 1.5 } } }\n",
                "apps[0].input_moderation.categories[0].threshold"},
        BadCase{"NegativeThreshold",
                kHeader + "apps { id: \"x\"\n input_moderation { categories { category: HATE threshold: -0.1 } } }\n",
                "apps[0].input_moderation.categories[0].threshold"},
        BadCase{"NanThreshold",
                kHeader + "apps { id: \"x\"\n input_moderation { categories { category: HATE threshold: nan } } }\n",
                "apps[0].input_moderation.categories[0].threshold"},
        BadCase{"PolicyFilterCategoryInModeration",
                kHeader + "apps { id: \"x\"\n output_moderation {\n categories { category: PII threshold: 0.5 } } }\n",
                "c.textproto:5:"},
        BadCase{"PolicyFilterCategoryNamed",
                kHeader + "apps { id: \"x\"\n input_moderation { categories { category: SECRETS threshold: 0.5 } } }\n",
                "SECRETS is not a classifier category"},
        BadCase{"RequestBytesOverTheReceiveLimit",
                kHeader + "apps { id: \"x\"\n limits {\n max_request_bytes: 100000000 } }\n",
                "c.textproto:5:"},
        BadCase{"OutputTokensThatWouldOverflowTheEstimate",
                kHeader + "apps { id: \"x\" limits { max_output_tokens: 4294967295 } }\n",
                "apps[0].limits.max_output_tokens: must be at most 1048576"},
        BadCase{"HugeModerateBatch", kHeader + "apps { id: \"x\" limits { max_moderate_batch: 100000 } }\n",
                "apps[0].limits.max_moderate_batch"},
        BadCase{"BadWeightMode", "model { model_dir: \"m\" weight_mode: \"turbo\" }\naudit { path: \"a\" }\napps { id: \"x\" }\n",
                "model.weight_mode"},
        BadCase{"BadWeightMemory",
                "model { model_dir: \"m\" weight_memory: \"swap\" }\naudit { path: \"a\" }\napps { id: \"x\" }\n",
                "model.weight_memory"},
        BadCase{"TooManyRunningSequences",
                "model { model_dir: \"m\" max_running_sequences: 257 }\naudit { path: \"a\" }\napps { id: \"x\" }\n",
                "model.max_running_sequences"},
        // 100,000 threads aborted the process at start; 2^32 - 1 wrapped to "one per core".
        BadCase{"TooManyThreads",
                "model {\n model_dir: \"m\"\n threads: 100000 }\naudit { path: \"a\" }\napps { id: \"x\" }\n",
                "c.textproto:3:2: model.threads: must be at most 1024"},
        BadCase{"ThreadsThatWrapNegative",
                "model { model_dir: \"m\" threads: 4294967295 }\naudit { path: \"a\" }\napps { id: \"x\" }\n",
                "model.threads: must be at most 1024"},
        // Above 2^63 the engine's signed budget was negative ("LoadOptions.kv_budget_bytes must be > 0").
        BadCase{"KvCacheBytesThatWrapNegative",
                "model {\n model_dir: \"m\"\n kv_cache_bytes: 18446744073709551615 }\naudit { path: \"a\" }\n"
                "apps { id: \"x\" }\n",
                "c.textproto:3:2: model.kv_cache_bytes: must be at most 1152921504606846976"},
        BadCase{"StreamWriteTimeoutOverAnHour",
                kHeader + "apps { id: \"x\" }\nstream_write_timeout_seconds: 3601\n",
                "c.textproto:4:1: stream_write_timeout_seconds: must be at most 3600"},
        BadCase{"UnknownActionNumber",
                kHeader + "apps { id: \"x\"\n output_moderation {\n categories { category: HATE action: 5 } } }\n",
                "c.textproto:5:30: apps[0].output_moderation.categories[0].action: 5 is not a warden.v1.Action"},
        BadCase{"UnknownDefaultActionNumber",
                kHeader + "apps { id: \"x\"\n input_moderation { default_action: 9 } }\n",
                "apps[0].input_moderation.default_action: 9 is not a warden.v1.Action"},
        BadCase{"UnknownRetentionNumber", kHeader + "apps { id: \"x\" retention: 7 }\n",
                "c.textproto:3:"},
        BadCase{"NoApps", kHeader, "apps"},
        // The pipeline escalates only to the app's own policy; the file would replace the text.
        BadCase{"EscalationWithoutAPolicy",
                kHeader + "apps { id: \"x\" input_moderation {\n categories { category: HATE escalate_to_llm: true } } }\n",
                "c.textproto:4:30: apps[0].input_moderation.categories[0].escalate_to_llm: needs llm_policy or "
                "llm_policy_file"},
        BadCase{"UncertainBandWithoutAPolicy",
                kHeader + "apps { id: \"x\" output_moderation {\n uncertain_low: 0.2\n uncertain_high: 0.6 } }\n",
                "c.textproto:5:2: apps[0].output_moderation.uncertain_high: the uncertain band needs llm_policy"},
        BadCase{"WindowOfTooFewWords",
                kHeader + "apps { id: \"x\" output_moderation {\n long_text_window_words: 8 } }\n",
                "c.textproto:4:2: apps[0].output_moderation.long_text_window_words: must be 0 (off) or between 16 "
                "and 4096 words"},
        BadCase{"WindowOfTooManyWords",
                kHeader + "apps { id: \"x\" input_moderation { long_text_window_words: 5000 } }\n",
                "apps[0].input_moderation.long_text_window_words: must be 0 (off) or between 16"},
        BadCase{"TwoPolicySources",
                kHeader + "apps { id: \"x\" input_moderation {\n llm_policy: \"p\"\n llm_policy_file: \"p.md\" } }\n",
                "c.textproto:5:2: apps[0].input_moderation.llm_policy_file: set llm_policy or llm_policy_file, not both"},
        // gRPC would listen on port 4464 (70000 mod 65536), or on 443 without a port.
        BadCase{"ListenPortOutOfRange", kHeader + "apps { id: \"x\" }\nlisten: \"127.0.0.1:70000\"\n",
                "c.textproto:4:1: listen: \"127.0.0.1:70000\": the port must be a number from 0 to 65535"},
        BadCase{"ListenWithoutPort", kHeader + "apps { id: \"x\" }\nlisten: \"localhost\"\n",
                "c.textproto:4:1: listen: \"localhost\" must be HOST:PORT"},
        BadCase{"ListenWithoutHost", kHeader + "apps { id: \"x\" }\nlisten: \":50051\"\n", "listen: \":50051\" names no host"},
        BadCase{"ListenNegativePort", kHeader + "apps { id: \"x\" }\nlisten: \"127.0.0.1:-1\"\n", "listen: \"127.0.0.1:-1\": the port"},
        BadCase{"ListenUnbracketedIpv6", kHeader + "apps { id: \"x\" }\nlisten: \"::1:50051\"\n", "in brackets"},
        BadCase{"MetricsPortOutOfRange", kHeader + "apps { id: \"x\" }\nmetrics_listen: \"127.0.0.1:99999\"\n",
                "c.textproto:4:1: metrics_listen: \"127.0.0.1:99999\": the port"},
        BadCase{"MetricsOnTheGrpcPort",
                kHeader + "apps { id: \"x\" }\nlisten: \"127.0.0.1:50051\"\nmetrics_listen: \"0.0.0.0:50051\"\n",
                "c.textproto:5:1: metrics_listen: \"0.0.0.0:50051\" uses the port of listen"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(ConfigLoader, UnknownEnumNumbersInJsonAreErrors) {
  const std::string json = R"({"model": {"modelDir": "m"}, "audit": {"path": "a"},
      "apps": [{"id": "x", "checkFailure": 5}]})";
  auto loaded = ParseServerConfig(json, "c.json", ".");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(std::string(loaded.status().message()).find("apps[0].check_failure: 5 is not a warden.v1.FailMode"),
            std::string::npos)
      << loaded.status().message();
  // Named values, and numbers that name a value, are fine.
  auto named = ParseServerConfig(R"({"model": {"modelDir": "m"}, "audit": {"path": "a"},
      "apps": [{"id": "x", "checkFailure": "FAIL_OPEN", "retention": 1}]})", "c.json", ".");
  EXPECT_TRUE(named.ok()) << named.status();
}

TEST(ConfigLoader, UnknownCategoryNumberIsReportedOnce) {
  auto loaded = ParseServerConfig(kHeader + "apps { id: \"x\" input_moderation { categories { category: 99 } } }\n",
                                  "c.textproto", ".");
  ASSERT_FALSE(loaded.ok());
  const std::string message(loaded.status().message());
  EXPECT_NE(message.find("categories[0].category: 99 is not a warden.v1.Category value"), std::string::npos)
      << message;
  // Not a second error without the category's name (" is not a classifier category").
  EXPECT_EQ(message.find("is not a classifier category"), std::string::npos) << message;
}

TEST(ConfigLoader, EscalationWithAPolicyIsAccepted) {
  for (const char* policy : {"llm_policy: \"p\"", "llm_policy_file: \"p.md\""}) {
    const std::string text = kHeader + "apps { id: \"x\" input_moderation { uncertain_low: 0.2 uncertain_high: 0.6 " +
                             "categories { category: HATE escalate_to_llm: true } " + policy + " } }\n";
    auto loaded = ParseServerConfig(text, "c.textproto", ".");
    EXPECT_TRUE(loaded.ok()) << policy << ": " << loaded.status();
  }
}

TEST(ConfigLoader, RunningSequencesUpToTheLimitAreAccepted) {
  for (const int n : {0, 1, 64, kMaxRunningSequences}) {
    const std::string text = "model { model_dir: \"m\" max_running_sequences: " + std::to_string(n) +
                             " }\naudit { path: \"a\" }\napps { id: \"x\" }\n";
    auto loaded = ParseServerConfig(text, "c.textproto", ".");
    ASSERT_TRUE(loaded.ok()) << n << ": " << loaded.status();
    EXPECT_EQ(loaded->config.model().max_running_sequences(), static_cast<uint32_t>(n));
  }
}

TEST(ConfigLoader, LongTextWindowsWithinTheirBoundsAreAccepted) {
  for (const int n : {0, 16, 64, 4096}) {
    const std::string text = kHeader + "apps { id: \"x\" output_moderation { long_text_window_words: " +
                             std::to_string(n) + " } }\n";
    auto loaded = ParseServerConfig(text, "c.textproto", ".");
    ASSERT_TRUE(loaded.ok()) << n << ": " << loaded.status();
    EXPECT_EQ(loaded->config.apps(0).output_moderation().long_text_window_words(), static_cast<uint32_t>(n));
  }
}

TEST(ConfigLoader, ThreadsAndKvCacheUpToTheirBoundsAreAccepted) {
  const std::string text = "model { model_dir: \"m\" threads: " + std::to_string(kMaxModelThreads) +
                           " kv_cache_bytes: " + std::to_string(kMaxKvCacheBytes) +
                           " }\naudit { path: \"a\" }\napps { id: \"x\" }\n";
  auto loaded = ParseServerConfig(text, "c.textproto", ".");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
}

TEST(ConfigLoader, StreamWriteTimeoutUpToAnHourIsAcceptedAndZeroMeansTheDefault) {
  for (const uint32_t seconds : {0u, 1u, 12u, kMaxStreamWriteTimeoutSeconds}) {
    const std::string text = kHeader + "apps { id: \"x\" }\nstream_write_timeout_seconds: " + std::to_string(seconds);
    auto loaded = ParseServerConfig(text, "c.textproto", ".");
    ASSERT_TRUE(loaded.ok()) << seconds << ": " << loaded.status();
    EXPECT_EQ(StreamWriteTimeoutSeconds(loaded->config), seconds == 0 ? kDefaultStreamWriteTimeoutSeconds : seconds);
  }
}

TEST(ConfigLoader, EveryClassifierCategoryIsAcceptedInModerationSettings) {
  for (const char* category : {"HATE", "SELF_HARM_INSTRUCTIONS", "SEXUAL_MINORS", "PROMPT_INJECTION", "JAILBREAK"}) {
    const std::string text = kHeader + "apps { id: \"x\" input_moderation { categories { category: " + category +
                             " threshold: 0.5 } } }\n";
    auto loaded = ParseServerConfig(text, "c.textproto", ".");
    EXPECT_TRUE(loaded.ok()) << category << ": " << loaded.status();
  }
}

// A category setting may change only the action or the escalation: threshold 0 inherits.
TEST(ConfigLoader, CategorySettingWithoutAThresholdInherits) {
  const std::string text = kHeader +
                           "apps { id: \"x\" input_moderation { categories { category: HATE action: BLOCK } "
                           "categories { category: VIOLENCE escalate_to_llm: true } llm_policy: \"p\" } }\n";
  auto loaded = ParseServerConfig(text, "c.textproto", ".");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
}

TEST(ConfigLoader, LimitsUpToTheirBoundsAreAccepted) {
  const std::string text = kHeader + "apps { id: \"x\" limits { max_request_bytes: " +
                           std::to_string(kMaxRequestBytesLimit) + " max_output_tokens: " +
                           std::to_string(kMaxOutputTokensLimit) + " max_moderate_batch: " +
                           std::to_string(kMaxModerateBatchLimit) + " } }\n";
  auto loaded = ParseServerConfig(text, "c.textproto", ".");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
}

TEST(ConfigLoader, ListenAddressesThatGrpcTakesAsWrittenAreAccepted) {
  for (const char* listen : {"127.0.0.1:0", "0.0.0.0:50051", "[::1]:65535", "localhost:1", "unix:/run/w.sock"}) {
    const std::string text = kHeader + "apps { id: \"x\" }\nlisten: \"" + listen +
                             "\"\nmetrics_listen: \"127.0.0.1:9464\"\n";
    auto loaded = ParseServerConfig(text, "c.textproto", ".");
    EXPECT_TRUE(loaded.ok()) << listen << ": " << loaded.status();
  }
  // Port 0 twice is two free ports; the same port on two hosts is two sockets.
  EXPECT_FALSE(SameListenPort("127.0.0.1:0", "127.0.0.1:0"));
  EXPECT_FALSE(SameListenPort("127.0.0.1:9000", "127.0.0.2:9000"));
  EXPECT_TRUE(SameListenPort("[::]:9000", "127.0.0.1:9000"));
  EXPECT_FALSE(ValidateListenAddress("unix:/run/w.sock", /*allow_unix=*/false).ok());
  // 0.0.0.0 and IPv6 loopback are two sockets; a UNIX socket path has no port.
  EXPECT_FALSE(SameListenPort("0.0.0.0:9090", "[::1]:9090"));
  EXPECT_TRUE(SameListenPort("0.0.0.0:9090", "127.0.0.1:9090"));
  EXPECT_FALSE(SameListenPort("unix:9464", "127.0.0.1:9464"));
  EXPECT_TRUE(SameListenPort(":9464", "127.0.0.1:9464"));
  // The metrics server takes ":PORT" as every interface, as it always did; gRPC does not.
  const std::string text = kHeader + "apps { id: \"x\" }\nmetrics_listen: \":9464\"\n";
  auto loaded = ParseServerConfig(text, "c.textproto", ".");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(ValidateListenAddress(":50051", /*allow_unix=*/true).ok());
}

// Editors on Windows save UTF-8 with a byte-order mark: the file means the same.
TEST(ConfigLoader, AcceptsAByteOrderMark) {
  const std::string bom = "\xEF\xBB\xBF";
  auto text = ParseServerConfig(bom + kValid, "c.textproto", "/base");
  EXPECT_TRUE(text.ok()) << text.status();
  auto json = ParseServerConfig(bom + R"({"model": {"modelDir": "m"}, "audit": {"path": "a"}, "apps": [{"id": "x"}]})",
                                "c.json", "/base");
  EXPECT_TRUE(json.ok()) << json.status();
  auto bad = ParseServerConfig(bom + "model { model_dir: \"m\" }\ncolour: 3\n", "c.textproto", "/base");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("c.textproto:2:"), std::string::npos) << bad.status();
}

// Unknown set ids are found once the policy files load; their errors point at these.
TEST(ConfigLoader, RecordsWhereEachPolicySetIdIsWritten) {
  const std::string text = kHeader +
                           "apps {\n id: \"x\"\n input_policy_sets: \"a\"\n input_policy_sets: \"b\"\n"
                           " output_policy_sets: [\"c\",\n \"d\"] }\n";
  auto loaded = ParseServerConfig(text, "c.textproto", ".");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto& at = loaded->policy_set_locations;
  ASSERT_EQ(at.size(), 4u);
  EXPECT_EQ(at.at("apps[0].input_policy_sets[0]").line, 5);
  EXPECT_EQ(at.at("apps[0].input_policy_sets[1]").line, 6);
  EXPECT_EQ(at.at("apps[0].input_policy_sets[1]").column, 2);
  EXPECT_EQ(at.at("apps[0].output_policy_sets[0]").line, 7);
  EXPECT_EQ(at.at("apps[0].output_policy_sets[1]").line, 7);  // A list is located at its start.
}

TEST(ConfigLoader, MissingFileIsNotFound) {
  EXPECT_EQ(LoadServerConfig("/nonexistent/warden.textproto").status().code(), absl::StatusCode::kNotFound);
}

TEST(ConfigLoader, DirectoryIsNotAConfigFile) {
  const std::string dir = ::testing::TempDir();
  const auto loaded = LoadServerConfig(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(loaded.status().message()).find(dir + " is a directory"), std::string::npos)
      << loaded.status();
}

TEST(ConfigLoader, JsonConfigIsAccepted) {
  const std::string json = R"({"model": {"modelDir": "m"}, "audit": {"path": "a"}, "apps": [{"id": "x"}]})";
  auto loaded = ParseServerConfig(json, "c.json", "/base");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.apps(0).id(), "x");
  EXPECT_FALSE(ParseServerConfig(R"({"nope": 1})", "c.json", "/base").ok());
}

}  // namespace
}  // namespace warden::gateway
