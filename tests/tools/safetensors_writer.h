// A minimal safetensors writer for test tools that build small checkpoints from tensors
// held in memory. model/checkpoint_writer.h only generates random tensors and exposes no
// "write these tensors" function, hence this small file.
// Thread safety: pure functions. Ownership: the caller owns every OutputTensor.
#ifndef WARDEN_TESTS_TOOLS_SAFETENSORS_WRITER_H_
#define WARDEN_TESTS_TOOLS_SAFETENSORS_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "model/safetensors.h"

namespace warden::scripted {

// One tensor's name, dtype, shape and little-endian bytes (row-major).
struct OutputTensor {
  std::string name;
  model::DType dtype = model::DType::kBF16;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t NumElements() const;
};

// A zero-filled tensor of the given dtype and shape.
OutputTensor ZeroTensor(std::string name, model::DType dtype, std::vector<int64_t> shape);

// Stores `value` at element `index` (row-major) of a BF16 or F16 tensor (rounded to nearest
// even) or an F32 tensor (exactly). Returns false, changing nothing, for an index outside
// the tensor or another dtype.
bool SetFloat(OutputTensor* tensor, int64_t index, float value);
// The value stored at `index` of a BF16, F16 or F32 tensor (0 for anything else).
float GetFloat(const OutputTensor& tensor, int64_t index);

// Writes `tensors` to `path` as one safetensors file. INVALID_ARGUMENT when a tensor's
// byte count does not match its dtype and shape or names repeat; PERMISSION_DENIED or
// DATA_LOSS when the file cannot be written.
absl::Status WriteSafetensors(const std::string& path, const std::vector<OutputTensor>& tensors);

}  // namespace warden::scripted

#endif  // WARDEN_TESTS_TOOLS_SAFETENSORS_WRITER_H_
