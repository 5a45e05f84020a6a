// The gpt-oss forward pass over a batch of sequence chunks: every chunk is a run of new
// tokens of one sequence (a whole prompt, or one decode token), all chunks go through the
// dense layers together, one matrix per precision group (ForwardChunk::rounded), attention
// reads each chunk's own KV cache, and the mixture-of-experts layer runs each selected
// expert once over all rows of a group routed to it.
//
// Thread safety: not thread-safe (uses the KernelContext and writes the caches); the
// Engine serialises calls. Memory: the activation buffers of the largest batch seen are
// kept between calls (decode steps then allocate nothing). Ownership: borrows config, weights and context, which must
// outlive it.
#ifndef WARDEN_MODEL_FORWARD_H_
#define WARDEN_MODEL_FORWARD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "model/config.h"
#include "model/kernels/int8_dense.h"
#include "model/kernels/kernel_context.h"
#include "model/kv_cache.h"
#include "model/rope.h"
#include "model/weights.h"

namespace warden::model {

struct ForwardChunk {
  SequenceKvCache* cache = nullptr;     // advanced by tokens.size() positions
  absl::Span<const int32_t> tokens;     // ids already checked to be < vocab_size
  bool all_logits = false;              // logits for every token, else only the last
  // Every product takes this chunk's activations rounded to bf16 once (a long prompt's
  // rows; kernels/dense.h), else at float32 accuracy, whatever else shares the step: the
  // batch runs each product once per precision group.
  bool rounded = false;
};

// Called after each layer with the residual stream of every row of a chunk (for tests and
// debugging): layer index, chunk index, position in the sequence, hidden_size floats. An
// error stops the forward pass there, as a failing kernel would (tests use it for that).
using LayerObserver =
    std::function<absl::Status(int layer, int chunk, int64_t position, const float* hidden)>;

// The `fast` weight mode: int8 per-channel copies of the attention and unembedding
// matrices, made at load and used for decode-sized batches (FastModeUsesInt8Dense; a
// larger prefill keeps the exact bf16 path, which reads the weights once per many rows
// anyway). In batches of at most kFastMaxRows rows the expert products take int8-quantised
// activations (Mxfp4Activations::kInt8). Immutable after MakeFastWeights; owns its bytes.
struct FastWeights {
  struct Layer {
    Int8Matrix q, k, v, o;
  };
  std::vector<Layer> layers;
  Int8Matrix unembedding;
};
// Session 16 measured the int8 dense kernel turning compute-bound at 3 rows and sent steps
// of 3-8 rows to the bf16 AMX path (batch-8 `fast` decode 18.1 / 18.6 -> 21.4 / 22.2
// tokens/s) but did not keep it: a request's logits then depended on how many others shared
// its step. Session 17: an int8 AMX path that sums the very integers of the VNNI kernel
// (int8_dense_amx.h) keeps both (EngineConsistency.FastDecodeStep*).
inline constexpr int kFastMaxRows = 8;
// Steps of kFastMaxRows + 1 .. kFastDenseMaxRows rows keep the int8 dense copies where they
// run on AMX tiles (half the bf16 path's bytes; their experts take float32 x, on the fused
// AMX path). Session 17, full 20b shape, `fast` batch 16: 28.3 / 28.7 / 28.8 -> 32.5 / 31.3 /
// 29.2 tokens/s (alternating runs; mean +8 %, the ceiling the bytes allow 3.5 -> 3.9x batch 1).
// Also giving those steps int8 experts was slower (17.5 / 18.5).
inline constexpr int kFastDenseMaxRows = 16;
// Whether a `fast` step of `rows` rows multiplies a dense matrix of `cols` columns with its
// int8 copy.
bool FastModeUsesInt8Dense(int rows, int cols);
FastWeights MakeFastWeights(const ModelWeights& weights, ThreadPool& pool);

class Transformer {
 public:
  // `fast` (may be null: exact mode) must outlive the transformer.
  Transformer(const ModelConfig& config, const ModelWeights& weights, KernelContext& ctx,
              const FastWeights* fast = nullptr);

  ~Transformer();

  // Runs the chunks; sets (*logits)[c] to chunk c's logits ([rows, vocab] row-major; rows
  // = 1 or tokens.size()), reusing the vectors' memory: a caller that passes the same
  // vectors step after step makes decode allocation-free once they have grown. Reserves
  // cache space first, so RESOURCE_EXHAUSTED leaves caches unchanged in length. A failure
  // after that (a kernel's) marks every chunk's cache lost (SequenceKvCache::MarkLost).
  absl::Status Forward(absl::Span<const ForwardChunk> chunks, std::vector<std::vector<float>>* logits,
                       const LayerObserver* observer = nullptr);

 private:
  struct Batch;  // the rows of one Forward call; kept between calls (buffers only grow)
  // Forward's work after the reservations: the rows through every layer, the lengths moved,
  // the logits. A failure here may have stored some rows (Forward marks the caches lost).
  absl::Status Compute(absl::Span<const ForwardChunk> chunks, Batch& batch, std::vector<std::vector<float>>* logits,
                       const LayerObserver* observer);
  absl::Status AttentionBlock(int layer, Batch& batch);
  absl::Status MlpBlock(int layer, Batch& batch);
  // How the packed expert kernel takes its activations in this weight mode, for a batch
  // of `batch_rows` rows (as the dense products, fast mode applies to decode-sized batches).
  Mxfp4Activations PackedExpertActivations(int batch_rows) const;
  struct AttendScratch {  // per-thread buffers of AttendGroup
    std::vector<const float*> keys, values;
    std::vector<float> scores;
  };
  void AttendGroup(int layer, const Batch& batch, int64_t row, int kv_head, AttendScratch* scratch,
                   float* out) const;
  // keys[i], values[i] = kv head `kv_head`'s rows at position first + i, i < end - first, of
  // chunk `chunk`'s sequence: from the batch for the chunk's own positions (the cache gets
  // them after the layer), else from the cache.
  void KeyValueRows(int layer, const Batch& batch, int chunk, int64_t first, int64_t end, int kv_head,
                    const float** keys, const float** values) const;
  // Attention of every row of the batch into attn [rows, NH*D]: row by row on float32
  // (AttendRows), or for rounded chunks' rows in full-attention layers on AMX tiles with
  // bf16 inputs (AttendAmx; the accuracy of their rounded products, dense.h).
  bool UsesAmxAttention(int layer) const;
  // Rows [first_row, rows) on float32; AttendAmx: the rounded chunks' rows.
  void AttendRows(int layer, const Batch& batch, int64_t first_row, float* attn) const;
  void AttendAmx(int layer, Batch& batch, float* attn) const;
  absl::Status Logits(Batch& batch, std::vector<std::vector<float>>* logits);
  // Whether any product of the step of `batch` (its rows laid out) may run on oneDNN.
  bool StepRunsOnOneDnn(const Batch& batch) const;
  // The same for one precision group: dense products of `rows` rows, logits of
  // `logit_rows`, expert products of up to `rows` rows.
  bool GroupRunsOnOneDnn(int64_t rows, int64_t logit_rows, bool rounded) const;
  // row(r) for r in [0, rows), on the pool when there are enough rows to pay for it.
  template <typename RowFn>
  void ForEachRow(int64_t rows, const RowFn& row);
  // y = x W^T + bias over `rows` rows of x, the first `rounded_rows` with x rounded to bf16,
  // the others at float32 accuracy, or on the int8 copy `fast` when set and they are few.
  absl::Status Project(const Bf16Matrix& w, const Int8Matrix* fast, const float* x, int64_t rounded_rows,
                       int64_t rows, const float* bias, float* y);
  // Expert `e` of `layer` over the rows `assigned` (row, routing weight), all of one
  // precision group, added into the residual stream; reads batch.normed. `packed`: how the
  // packed kernel takes their x (float32 for the rounded group).
  absl::Status RunExpert(int layer, int e, absl::Span<const std::pair<int64_t, float>> assigned, bool rounded,
                         Mxfp4Activations packed, Batch& batch);

  const ModelConfig& config_;
  const ModelWeights& weights_;
  KernelContext& ctx_;
  const FastWeights* fast_;
  RopeTable rope_;
  int kv_stride_;  // floats between the key (value) rows of the batch, as in the cache: KvRowStride
  std::unique_ptr<Batch> batch_;  // the workspace every Forward call reuses
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_FORWARD_H_
