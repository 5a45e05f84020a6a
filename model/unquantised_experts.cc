#include "model/unquantised_experts.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/kernels/mxfp4_quantize.h"

namespace warden::model {
namespace {

constexpr int kBlock = 32;

// Widens `count` consecutive elements from `index` into `out`; false at the first
// non-finite one, whose offset from `index` goes to *bad. Not model/tensor_convert's
// WidenToFloat plus a check: testing the 16-bit exponent in the same loop is ~14 % less
// quantisation time (kernels_bench BM_QuantiseBf16Experts), and this runs on 19 G weights.
bool WidenFinite(const TensorView& view, size_t index, int count, float* out, int* bad) {
  if (view.dtype == DType::kF32) {
    std::memcpy(out, view.data + 4 * index, 4 * static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      if (!std::isfinite(out[i])) return *bad = i, false;
    }
    return true;
  }
  const auto* bits = reinterpret_cast<const uint8_t*>(view.data + 2 * index);
  const bool bf16 = view.dtype == DType::kBF16;
  const uint16_t exponent_mask = bf16 ? 0x7f80 : 0x7c00;  // all ones: inf or NaN
  for (int i = 0; i < count; ++i) {
    uint16_t half;
    std::memcpy(&half, bits + 2 * i, 2);
    if ((half & exponent_mask) == exponent_mask) return *bad = i, false;
    out[i] = bf16 ? Bf16ToFloat(half) : Fp16ToFloat(half);
  }
  return true;
}

absl::Status CheckView(const TensorView& view, int experts, int rows, int cols) {
  const std::vector<int64_t> expected = {experts, cols, rows};
  if (cols % kBlock != 0) {
    return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", view.name, "': ", cols,
                                                   " inputs per expert is not a multiple of 32 (MXFP4 blocks)"));
  }
  if (view.shape != expected) {
    return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", view.name, "' has shape [",
                                                   absl::StrJoin(view.shape, ", "), "], the config needs [",
                                                   absl::StrJoin(expected, ", "), "]"));
  }
  if (view.dtype != DType::kBF16 && view.dtype != DType::kF16 && view.dtype != DType::kF32) {
    return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", view.name, "' has dtype ",
                                                   view.dtype_name, ", expected BF16, F16 or F32"));
  }
  return absl::OkStatus();
}

// Output rows are quantised kRowTile at a time: the tile's inputs are read as kRowTile
// consecutive weights of every input row (the transposed tensor's rows), widened once into
// a small buffer, and each output row's blocks are then written contiguously.
constexpr int kRowTile = 64;

// Quantises output rows [r0, r0 + tile) of expert e.
absl::Status QuantiseRowTile(const TensorView& view, int e, int r0, int tile, int rows, int cols, uint8_t* blocks,
                             uint8_t* scales) {
  const int nblocks = cols / kBlock;
  float widened[kBlock][kRowTile];
  float values[kBlock];
  for (int b = 0; b < nblocks; ++b) {
    for (int j = 0; j < kBlock; ++j) {
      const int c = b * kBlock + j;
      const size_t index = (static_cast<size_t>(e) * cols + c) * rows + r0;
      int bad = 0;
      if (!WidenFinite(view, index, tile, widened[j], &bad)) {
        return absl::InvalidArgumentError(absl::StrCat(view.file, ": tensor '", view.name, "' holds a non-finite value at [",
                                                       e, ", ", c, ", ", r0 + bad, "]; weights must be finite"));
      }
    }
    for (int t = 0; t < tile; ++t) {
      for (int j = 0; j < kBlock; ++j) values[j] = widened[j][t];
      const size_t block = (static_cast<size_t>(e) * rows + r0 + t) * nblocks + b;
      QuantizeMxfp4Block(values, blocks + block * 16, scales + block);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QuantisedExperts> QuantiseTransposedExperts(const TensorView& view, int experts, int rows,
                                                           int cols) {
  if (absl::Status status = CheckView(view, experts, rows, cols); !status.ok()) return status;
  const size_t block_count = static_cast<size_t>(experts) * rows * (cols / kBlock);
  QuantisedExperts out;
  out.blocks = HugePageBuffer(block_count * 16);
  out.scales = HugePageBuffer(block_count);
  if (out.blocks.data() == nullptr || out.scales.data() == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", block_count * 17,
                                                     " bytes to quantise tensor '", view.name, "'"));
  }
  auto* blocks = static_cast<uint8_t*>(out.blocks.data());
  auto* scales = static_cast<uint8_t*>(out.scales.data());
  // Experts are independent: one worker per core takes every n-th expert (the load of a 20b
  // checkpoint quantises 19 G weights).
  const int workers = std::max(1, std::min<int>(experts, std::thread::hardware_concurrency()));
  std::vector<absl::Status> statuses(workers);
  auto work = [&](int worker) {
    for (int e = worker; e < experts && statuses[worker].ok(); e += workers) {
      for (int r0 = 0; r0 < rows && statuses[worker].ok(); r0 += kRowTile) {
        statuses[worker] = QuantiseRowTile(view, e, r0, std::min(kRowTile, rows - r0), rows, cols, blocks, scales);
      }
    }
  };
  std::vector<std::thread> threads;
  std::vector<int> inline_workers = {0};
  for (int worker = 1; worker < workers; ++worker) {
    try {
      threads.emplace_back(work, worker);
    } catch (const std::system_error&) {  // no thread to be had: this thread does its share
      inline_workers.push_back(worker);
    }
  }
  for (int worker : inline_workers) work(worker);
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : statuses) {
    if (!status.ok()) return status;
  }
  const size_t per_expert = static_cast<size_t>(rows) * (cols / kBlock);
  for (int e = 0; e < experts; ++e) {
    out.matrices.push_back(Mxfp4Matrix{blocks + e * per_expert * 16, scales + e * per_expert, rows, cols});
  }
  return out;
}

}  // namespace warden::model
