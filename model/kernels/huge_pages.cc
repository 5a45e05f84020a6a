#include "model/kernels/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace warden::model {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kSmallAlignment = 64;

size_t RoundUp(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

// The mapping is over-allocated by one huge page so its start can be moved to a 2 MB
// boundary (the kernel only backs aligned 2 MB ranges with huge pages); the slack at both
// ends is unmapped again.
void* MapAligned(size_t bytes) {
  const size_t length = RoundUp(bytes, kHugePage);
  void* raw = ::mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = RoundUp(start, kHugePage);
  if (aligned > start) ::munmap(raw, aligned - start);
  const uintptr_t end = start + length + kHugePage;
  if (end > aligned + length) ::munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
  void* data = reinterpret_cast<void*>(aligned);
  ::madvise(data, length, MADV_HUGEPAGE);  // best effort: EINVAL when THP is unavailable
  return data;
}

}  // namespace

void* AllocateLarge(size_t bytes) {
  if (bytes > (~size_t{0} >> 1)) return nullptr;  // no machine has it; keeps the rounding exact
  if (bytes >= kHugePageThresholdBytes) return MapAligned(bytes);
  void* data = std::aligned_alloc(kSmallAlignment, RoundUp(bytes == 0 ? 1 : bytes, kSmallAlignment));
  return data;
}

void FreeLarge(void* data, size_t bytes) {
  if (data == nullptr) return;
  if (bytes >= kHugePageThresholdBytes) {
    ::munmap(data, RoundUp(bytes, kHugePage));
  } else {
    std::free(data);
  }
}

}  // namespace warden::model
