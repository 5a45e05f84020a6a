// Request log lines: one JSON object per call, the key's label and an admin call's detail
// when known, quoted safely, never more.
#include "gateway/request_log.h"

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

TEST(RequestLog, AppCallLineHasNoKeyOrDetailWhenUnknown) {
  RequestLogEntry entry;
  entry.rpc = "Moderate";
  entry.app_id = "demo";
  entry.request_id = "abc";
  const std::string line = FormatRequestLog(entry);
  EXPECT_NE(line.find("\"rpc\":\"Moderate\",\"app\":\"demo\",\"request_id\":\"abc\",\"code\":\"OK\""),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("\"key\""), std::string::npos) << line;
  EXPECT_EQ(line.find("\"detail\""), std::string::npos) << line;
}

TEST(RequestLog, AdminCallLineNamesTheKeyAndWhatItDid) {
  RequestLogEntry entry;
  entry.rpc = "QueryAudit";
  entry.app_id = "admin";
  entry.key_label = "ops \"night\" key";
  entry.detail = "app_id=demo category=PII records=3";
  const std::string line = FormatRequestLog(entry);
  EXPECT_NE(line.find("\"key\":\"ops \\\"night\\\" key\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"detail\":\"app_id=demo category=PII records=3\""), std::string::npos) << line;
  EXPECT_EQ(line.back(), '}');
}

}  // namespace
}  // namespace warden::gateway
