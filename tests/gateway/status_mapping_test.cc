#include "gateway/status_mapping.h"

#include <string>

#include <gtest/gtest.h>

namespace warden::gateway {
namespace {

TEST(StatusMapping, KeepsCodeAndShortMessage) {
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("unknown policy set 'x'"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "unknown policy set 'x'");
}

TEST(StatusMapping, EmptyMessageBecomesNoDetail) {
  // An empty INTERNAL message would be read as gRPC's own parse failure by the interceptor.
  EXPECT_EQ(ToGrpcStatus(absl::InternalError("")).error_message(), "(no detail)");
}

TEST(StatusMapping, MessageQuotingAHugeFieldIsTruncatedAtAUtf8Boundary) {
  // A 100 KB id echoed back would not fit the client's metadata limit.
  std::string id;
  for (int i = 0; i < 50000; ++i) id += "\xC3\xA9";  // "é", two bytes each
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("unknown policy set 'x" + id + "'"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string& message = status.error_message();
  EXPECT_LE(message.size(), kMaxStatusMessageBytes + 32);
  EXPECT_EQ(message.rfind("unknown policy set 'x", 0), 0u);
  EXPECT_NE(message.find("(message truncated)"), std::string::npos);
  const size_t cut = message.find("...");
  ASSERT_NE(cut, std::string::npos);
  // Everything before the marker is whole characters: "x" then an even number of é bytes.
  EXPECT_EQ((cut - std::string("unknown policy set 'x").size()) % 2, 0u);
}

}  // namespace
}  // namespace warden::gateway
