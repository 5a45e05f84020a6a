// Prefill attention on AMX tiles: the query rows of one sequence chunk that share a key/value
// head, a few rows at a time, against that head's keys and values held once in bf16.
//
// Why: attention per query row on float32 FMAs (attention.h) was the largest single cost of
// a long LLM policy judgement (perf, 4-KB text on the full 20b shape: ~30 % of the compute).
// Here q.k for 32 query vectors (rows x heads) and the weighted sum of the values are two
// bf16 tile products (amx_dense::RowsFromBuffer), with the softmax in float32 between them.
//
// Accuracy: queries, keys, the softmax weights and the values are rounded to bf16 (products
// accumulate in float32), as the engine's prefill-sized dense and expert products round
// their activations (kRoundedActivationMinRows in dense.h); so this path is for prefill-sized
// batches only. The softmax (with the sink) is float32.
//
// Thread safety: AmxAttentionKv is written by Load and then only read, so any number of
// threads may run AttendRowsAmx on one loaded Kv at once, each with its own scratch.
#ifndef WARDEN_MODEL_KERNELS_ATTENTION_AMX_H_
#define WARDEN_MODEL_KERNELS_ATTENTION_AMX_H_

#include <cstdint>

#include "model/kernels/aligned_vector.h"
#include "model/kernels/amx_dense.h"

namespace warden::model {

// Query vectors (rows x heads) per AttendRowsAmx call: one packed group of bf16 columns.
inline constexpr int kAmxAttentionMaxQueries = 32;

// Whether AttendRowsAmx can run: AMX granted, AVX-512, and a head width that is a whole
// number of tile depths (gpt-oss: 64).
bool AmxAttentionAvailable(int head_dim);

// One key/value head's first n keys and values, rounded to bf16 in the layouts the tile
// products read: keys as rows ([n rounded up to 16][head_dim], padding zero), values
// transposed ([head_dim][n rounded up to 32], padding zero).
class AmxAttentionKv {
 public:
  // keys[p] and values[p] (p < n) are head_dim floats each; requires
  // AmxAttentionAvailable(head_dim) and n >= 1. Reuses the buffers' capacity.
  void Load(const float* const* keys, const float* const* values, int n, int head_dim);

  int n() const { return n_; }
  int head_dim() const { return head_dim_; }
  int key_rows() const { return key_rows_; }
  int value_cols() const { return value_cols_; }
  const uint16_t* keys() const { return keys_.data(); }
  const uint16_t* values_transposed() const { return values_t_.data(); }

 private:
  int n_ = 0, head_dim_ = 0, key_rows_ = 0, value_cols_ = 0;
  AlignedVector<uint16_t> keys_, values_t_;
};

// Per-thread buffers of AttendRowsAmx (grown once, reused).
struct AmxAttentionScratch {
  AlignedVector<float> queries, scores, weights, out;
  amx_dense::PackedActivations packed_queries, packed_weights;
};

// `rows` query rows, each with `heads` query heads of kv.head_dim() floats (row r, head h
// at queries + r * query_stride + h * head_dim); row r sees keys [0, visible[r]) of kv
// (1 <= visible[r] <= kv.n()). sinks[h] is head h's sink logit (an extra softmax column
// with no value); scale multiplies q.k. Writes row r, head h at out + r * out_stride +
// h * head_dim. Requires rows * heads <= kAmxAttentionMaxQueries.
struct AmxAttentionRows {
  const float* queries = nullptr;
  int64_t query_stride = 0;
  const float* sinks = nullptr;
  int heads = 0;
  int rows = 0;
  const int* visible = nullptr;
  float scale = 1.0f;
  float* out = nullptr;
  int64_t out_stride = 0;
};

void AttendRowsAmx(const AmxAttentionKv& kv, const AmxAttentionRows& in, AmxAttentionScratch* scratch);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_ATTENTION_AMX_H_
