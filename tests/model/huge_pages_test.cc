// Huge-page memory for weights: alignment, ownership and the vector allocator.
#include "model/kernels/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

namespace warden::model {
namespace {

uintptr_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(HugePages, LargeBlocksStartOnHugePageBoundariesSmallOnCacheLines) {
  for (size_t bytes : {kHugePageThresholdBytes, kHugePageThresholdBytes + 1, size_t{5} << 20}) {
    void* p = AllocateLarge(bytes);
    ASSERT_NE(p, nullptr) << bytes;
    EXPECT_EQ(Address(p) % (size_t{2} << 20), 0u) << bytes;
    std::memset(p, 0xab, bytes);  // every byte is writable
    EXPECT_EQ(static_cast<unsigned char*>(p)[bytes - 1], 0xab);
    FreeLarge(p, bytes);
  }
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{1000}, kHugePageThresholdBytes - 1}) {
    void* p = AllocateLarge(bytes);
    ASSERT_NE(p, nullptr) << bytes;
    EXPECT_EQ(Address(p) % 64, 0u) << bytes;
    if (bytes > 0) std::memset(p, 0xcd, bytes);
    FreeLarge(p, bytes);
  }
}

TEST(HugePages, ImpossibleSizeFailsWithoutCrashing) {
  for (size_t bytes : {~size_t{0}, ~size_t{0} - (size_t{4} << 20), size_t{1} << 62}) {
    EXPECT_EQ(AllocateLarge(bytes), nullptr) << bytes;
  }
  HugePageBuffer none(~size_t{0} / 2);
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.size(), 0u);
}

TEST(HugePages, BufferMovesOwnership) {
  HugePageBuffer a(size_t{3} << 20);
  ASSERT_NE(a.data(), nullptr);
  std::memset(a.data(), 7, a.size());
  void* const data = a.data();
  HugePageBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(b.data(), data);
  EXPECT_EQ(b.size(), size_t{3} << 20);
  HugePageBuffer c(100);
  c = std::move(b);  // frees c's own block, takes b's
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(static_cast<unsigned char*>(c.data())[12345], 7);
}

TEST(HugePages, VectorWithTheAllocatorGrowsAndKeepsValues) {
  std::vector<int32_t, HugePageAllocator<int32_t>> v;
  for (int32_t i = 0; i < (1 << 20); ++i) v.push_back(i);  // crosses the threshold while growing
  EXPECT_EQ(Address(v.data()) % (size_t{2} << 20), 0u);
  int64_t sum = std::accumulate(v.begin(), v.end(), int64_t{0});
  EXPECT_EQ(sum, (int64_t{1} << 20) * ((int64_t{1} << 20) - 1) / 2);
  v.resize(10);
  v.shrink_to_fit();
  EXPECT_EQ(v[9], 9);
}

}  // namespace
}  // namespace warden::model
