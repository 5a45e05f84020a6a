// AVX2 + FMA attention for CPUs without AVX-512 (internal to model/kernels; attention.cc
// dispatches to it). Without it such CPUs ran AttendPortable: scalar dot products bound by
// one dependent add per element and a libm exp per position (kernels_bench BM_AttendHeads,
// one thread of an AMD EPYC: 0.4-2 GFLOP/s against 13-23 here; the full 20b shape's cold
// 1,000-token prefix prefill took 51.4 s with it, 38.3 s with this kernel).
//
// Same contract as AttendHeads (attention.h): each head's result is the softmax over
// {scale * q.k_p} and the head's sink, applied to the values. Every head runs the same
// operations in the same order whether it is alone (AttendHead) or in a group, so a head
// gets the same bits either way. Differs from the portable and AVX-512 kernels only in
// float rounding (the order of sums; exp to about 1e-7 relative, and 0 below e^-87).
// Callers check CpuHasAvx2Fma().
// Thread safety: pure functions; writes only `scores` and `out`.
#ifndef WARDEN_MODEL_KERNELS_ATTENTION_AVX2_H_
#define WARDEN_MODEL_KERNELS_ATTENTION_AVX2_H_

#include "model/kernels/attention.h"

namespace warden::model::attention_avx2 {

// Whether AttendGroup takes these shapes: head widths 8, 16, ..., 128 (gpt-oss: 64) and at
// most kMaxHeads heads per group (gpt-oss: 8).
inline constexpr int kMaxHeads = 64;
bool Supports(int head_dim, int heads);

// AttendHeads for a shape Supports() accepts. `scores`: at least heads * n floats.
void AttendGroup(const AttentionGroupInput& in, float* scores, float* out);

}  // namespace warden::model::attention_avx2

#endif  // WARDEN_MODEL_KERNELS_ATTENTION_AVX2_H_
