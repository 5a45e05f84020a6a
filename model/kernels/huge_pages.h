// Memory for large, long-lived, streamed data (weights): anonymous mappings advised to use
// transparent huge pages. A decode step streams gigabytes of weights per token; with 4 KB
// pages — and with a file mapping's page-cache pages in particular — the same read runs
// measurably slower than from 2 MB pages (README "Engine speed": measured ~15-20 % on the
// file mapping), so weights the engine streams live in this memory.
//
// Contract: the advice is best effort. If the kernel has no huge pages to give (THP set to
// "never", fragmented memory) the memory is ordinary 4 KB pages and everything still works.
// Thread safety: a HugePageBuffer is plain owned memory; HugePageAllocator is stateless.
#ifndef WARDEN_MODEL_KERNELS_HUGE_PAGES_H_
#define WARDEN_MODEL_KERNELS_HUGE_PAGES_H_

#include <cstddef>
#include <new>
#include <utility>

namespace warden::model {

// Requests of at least this many bytes get their own huge-page-advised mapping; smaller
// ones come from the ordinary heap (a mapping would waste most of a 2 MB page).
inline constexpr size_t kHugePageThresholdBytes = size_t{2} << 20;

// Returns uninitialised memory of at least `bytes` (aligned to 2 MB when bytes >=
// kHugePageThresholdBytes, else to 64 bytes), or nullptr when the system has no memory.
void* AllocateLarge(size_t bytes);
// Frees what AllocateLarge(bytes) returned; `bytes` must be the same value.
void FreeLarge(void* data, size_t bytes);

// Owning, move-only block of AllocateLarge memory.
class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  // Empty (data() == nullptr) when the allocation failed; callers check.
  explicit HugePageBuffer(size_t bytes) : data_(AllocateLarge(bytes)), size_(data_ ? bytes : 0) {}
  ~HugePageBuffer() { Reset(); }
  HugePageBuffer(HugePageBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void Reset() {
    if (data_ != nullptr) FreeLarge(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }

  void* data_ = nullptr;
  size_t size_ = 0;
};

// std::allocator replacement for vectors of weights: large arrays get huge-page memory.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocators convert implicitly

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    void* p = AllocateLarge(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { FreeLarge(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
  template <typename U>
  bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_HUGE_PAGES_H_
