// Safetensors fuzzer: the input is a whole file. It is written to an in-memory file
// (memfd) and opened through its /proc/self/fd path, so SafetensorsFile::Open runs its
// real open/fstat/mmap path (and the resident path's reads) without touching the disk. Both
// residencies must agree. When Open succeeds, every tensor must lie inside the file with a
// byte size equal to elements x dtype size; its bytes are read so AddressSanitizer would
// catch a view that points outside the file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "model/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

namespace warden::fuzz {
namespace {

// One memfd per process, rewritten for every input.
int InputFd() {
  static const int fd = [] {
    const int created = ::memfd_create("safetensors_fuzz_input", 0);
    FUZZ_CHECK(created >= 0, "memfd_create failed");
    return created;
  }();
  return fd;
}

void WriteInput(int fd, const uint8_t* data, size_t size) {
  FUZZ_CHECK(::ftruncate(fd, 0) == 0, "ftruncate failed");
  size_t written = 0;
  while (written < size) {
    const ssize_t n = ::pwrite(fd, data + written, size - written, static_cast<off_t>(written));
    FUZZ_CHECK(n > 0, "pwrite failed");
    written += static_cast<size_t>(n);
  }
}

void CheckTensor(const model::TensorView& view) {
  const int64_t elements = view.NumElements();
  FUZZ_CHECK(elements >= 0, "negative element count");
  FUZZ_CHECK(view.dtype == model::DType::kOther ||
                 static_cast<uint64_t>(elements) * model::DTypeSize(view.dtype) == view.size_bytes,
             "tensor byte size != elements x dtype size");
  FUZZ_CHECK(view.size_bytes == 0 || view.data != nullptr, "non-empty tensor without data");
  uint8_t sum = 0;
  for (size_t i = 0; i < view.size_bytes; ++i) sum ^= view.data[i];
  asm volatile("" : : "r"(sum));  // Keeps the reads from being optimised away.
}

}  // namespace
}  // namespace warden::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warden::fuzz;  // NOLINT: fuzzer entry point.
  const int fd = InputFd();
  WriteInput(fd, data, size);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  // Both residencies parse the same bytes: same verdict, same tensors.
  absl::StatusOr<std::unique_ptr<warden::model::SafetensorsFile>> file =
      warden::model::SafetensorsFile::Open(path, warden::model::Residency::kMapped);
  absl::StatusOr<std::unique_ptr<warden::model::SafetensorsFile>> resident =
      warden::model::SafetensorsFile::Open(path, warden::model::Residency::kResident);
  FUZZ_CHECK(file.status() == resident.status(), "mapped and resident files disagree");
  if (!file.ok()) {
    FUZZ_CHECK(!file.status().message().empty(), "error without a message");
    return 0;
  }
  FUZZ_CHECK((*file)->tensors().size() == (*resident)->tensors().size(), "tensor counts differ");
  for (const auto& [name, view] : (*file)->tensors()) {
    FUZZ_CHECK(name == view.name, "tensor map key != view name");
    CheckTensor(view);
    const warden::model::TensorView& copy = (*resident)->tensors().at(name);
    CheckTensor(copy);
    FUZZ_CHECK(copy.size_bytes == view.size_bytes &&
                   (view.size_bytes == 0 || std::memcmp(copy.data, view.data, view.size_bytes) == 0),
               "resident bytes differ from the mapped file's");
  }
  return 0;
}
