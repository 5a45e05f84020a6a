#include "tests/tools/safetensors_writer.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "model/kernels/tensor_types.h"

namespace warden::scripted {
namespace {

// The header's name of a dtype the writer can size (kOther has no size and no name).
const char* SafetensorsDtype(model::DType dtype) { return model::DTypeName(dtype); }

absl::Status CheckTensors(const std::vector<OutputTensor>& tensors) {
  std::set<std::string> names;
  for (const OutputTensor& t : tensors) {
    if (!names.insert(t.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' appears twice"));
    }
    const int64_t expected = t.NumElements() * model::DTypeSize(t.dtype);
    if (static_cast<int64_t>(t.data.size()) != expected) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' has ", t.data.size(),
                                                     " bytes, its shape needs ", expected));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t OutputTensor::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

OutputTensor ZeroTensor(std::string name, model::DType dtype, std::vector<int64_t> shape) {
  OutputTensor t{std::move(name), dtype, std::move(shape), {}};
  t.data.assign(static_cast<size_t>(t.NumElements() * model::DTypeSize(dtype)), 0);
  return t;
}

bool SetFloat(OutputTensor* tensor, int64_t index, float value) {
  if (index < 0 || index >= tensor->NumElements()) return false;
  if (tensor->dtype == model::DType::kF32) {
    std::memcpy(&tensor->data[static_cast<size_t>(index) * 4], &value, 4);
    return true;
  }
  if (tensor->dtype == model::DType::kBF16) {
    const uint16_t half = model::FloatToBf16(value);
    std::memcpy(&tensor->data[static_cast<size_t>(index) * 2], &half, 2);
    return true;
  }
  if (tensor->dtype == model::DType::kF16) {
    const _Float16 half = static_cast<_Float16>(value);  // GCC's conversion: to nearest, ties to even
    std::memcpy(&tensor->data[static_cast<size_t>(index) * 2], &half, 2);
    return true;
  }
  return false;
}

float GetFloat(const OutputTensor& tensor, int64_t index) {
  if (index < 0 || index >= tensor.NumElements()) return 0.0f;
  if (tensor.dtype == model::DType::kF32) {
    float value;
    std::memcpy(&value, &tensor.data[static_cast<size_t>(index) * 4], 4);
    return value;
  }
  if (tensor.dtype == model::DType::kBF16) {
    uint16_t half;
    std::memcpy(&half, &tensor.data[static_cast<size_t>(index) * 2], 2);
    return model::Bf16ToFloat(half);
  }
  if (tensor.dtype == model::DType::kF16) {
    uint16_t half;
    std::memcpy(&half, &tensor.data[static_cast<size_t>(index) * 2], 2);
    return model::Fp16ToFloat(half);
  }
  return 0.0f;
}

absl::Status WriteSafetensors(const std::string& path, const std::vector<OutputTensor>& tensors) {
  if (absl::Status status = CheckTensors(tensors); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", status.message()));
  }
  nlohmann::json header;
  header["__metadata__"] = {{"format", "pt"}};
  int64_t offset = 0;
  for (const OutputTensor& t : tensors) {
    const int64_t end = offset + static_cast<int64_t>(t.data.size());
    header[t.name] = {
        {"dtype", SafetensorsDtype(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps tensor data 8-byte aligned
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot write"));
  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  bool ok = std::fwrite(length, 1, 8, file.get()) == 8 &&
            std::fwrite(text.data(), 1, text.size(), file.get()) == text.size();
  for (const OutputTensor& t : tensors) {
    ok = ok && std::fwrite(t.data.data(), 1, t.data.size(), file.get()) == t.data.size();
  }
  if (!ok || std::fflush(file.get()) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": write failed (disk full?)"));
  }
  return absl::OkStatus();
}

}  // namespace warden::scripted
