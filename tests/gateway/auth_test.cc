#include "gateway/auth.h"

#include <gtest/gtest.h>

#include "base/sha256.h"

namespace warden::gateway {
namespace {

v1::ServerConfig TwoApps() {
  v1::ServerConfig config;
  auto* app = config.add_apps();
  app->set_id("shop");
  auto* key = app->add_api_keys();
  key->set_sha256(Sha256Hex("shop-key"));
  key->set_role(v1::APP);
  auto* ops = config.add_apps();
  ops->set_id("ops");
  auto* admin = ops->add_api_keys();
  admin->set_sha256(Sha256Hex("ops-key"));
  admin->set_role(v1::ADMIN);
  return config;
}

TEST(Authenticator, MapsEachKeyToItsAppAndRole) {
  Authenticator auth(TwoApps());
  auto shop = auth.Authenticate("Bearer shop-key");
  ASSERT_TRUE(shop.ok());
  EXPECT_EQ(shop->app_id, "shop");
  EXPECT_EQ(shop->role, v1::APP);
  auto ops = auth.Authenticate("bearer ops-key");
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->app_id, "ops");
  EXPECT_EQ(ops->role, v1::ADMIN);
}

TEST(Authenticator, RejectsMissingMalformedAndUnknownKeys) {
  Authenticator auth(TwoApps());
  for (const char* header : {"", "shop-key", "Bearer ", "Basic shop-key", "Bearer shop-key ", "Bearer SHOP-KEY",
                             "Bearer " /* hash of the key is not the key */}) {
    EXPECT_EQ(auth.Authenticate(header).status().code(), absl::StatusCode::kUnauthenticated) << header;
  }
  // The stored hash itself is not a key.
  EXPECT_FALSE(auth.Authenticate("Bearer " + Sha256Hex("shop-key")).ok());
}

TEST(RequireRole, AppKeyCannotCallAdmin) {
  Principal app{"shop", v1::APP, ""};
  Principal admin{"ops", v1::ADMIN, ""};
  EXPECT_EQ(RequireRole(app, v1::ADMIN).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(RequireRole(admin, v1::ADMIN).ok());
  EXPECT_TRUE(RequireRole(admin, v1::APP).ok());
  EXPECT_TRUE(RequireRole(app, v1::APP).ok());
}

}  // namespace
}  // namespace warden::gateway
