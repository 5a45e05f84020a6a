#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/status_macros.h"
#include "model/kernels/aligned_vector.h"
#include "model/kernels/attention.h"
#include "model/kernels/attention_amx.h"
#include "model/kernels/cpu_features.h"
#include "model/kernels/dense.h"
#include "model/kernels/expert_matmul.h"
#include "model/kernels/ops.h"

namespace warden::model {

// All rows of one Forward call, chunk after chunk: first the rounded chunks' rows
// [0, rounded_rows), then the others', each group in the callers' order. Row r belongs to
// chunk row_chunk[r] at sequence position row_position[r].
struct Transformer::Batch {
  // Empties the per-call bookkeeping; every buffer keeps its memory for the next call.
  void Reset(absl::Span<const ForwardChunk> new_chunks) {
    chunks = new_chunks;
    chunk_first_row.assign(chunks.size(), 0);
    chunk_start_position.assign(chunks.size(), 0);
    row_chunk.clear();
    row_position.clear();
    rows = 0;
    rounded_rows = 0;
  }
  int64_t ChunkEndRow(size_t c) const { return chunk_first_row[c] + static_cast<int64_t>(chunks[c].tokens.size()); }

  absl::Span<const ForwardChunk> chunks;
  std::vector<int64_t> chunk_first_row, chunk_start_position;  // per chunk (callers' order)
  std::vector<int> row_chunk;
  std::vector<int64_t> row_position;
  int64_t rows = 0;
  int64_t rounded_rows = 0;  // rows of rounded chunks, which come first
  // The buffers the kernels read start on cache lines (kernels/aligned_vector.h).
  AlignedVector<float> x;        // residual stream [rows, H]
  std::vector<float> cos, sin;   // RoPE [rows, D/2]
  AlignedVector<float> q;        // this layer's query projection [rows, NH*D]
  // Its keys (after RoPE) and values, rows KvRowStride apart as in the cache, so attention
  // over a chunk's own positions reads them without the cache-set conflicts of 2 KiB rows.
  AlignedVector<float> k, v;
  AlignedVector<float> kv_projected;  // a key or value projection before it is spread [rows, NKV*D]
  // Per-layer scratch, sized once per call and reused by every layer (vectors only grow).
  AlignedVector<float> normed;     // RMS-normed x [rows, H]
  AlignedVector<float> attn;       // attention output [rows, NH*D]
  AlignedVector<float> projected;  // o projection [rows, H]
  AlignedVector<float> router;     // router logits [rows, experts]
  AlignedVector<float> expert_in, expert_hidden, expert_act, expert_out;  // one expert's rows
  std::vector<std::vector<std::pair<int64_t, float>>> routed;  // expert -> (row, weight)
  std::vector<int> expert_order;                               // experts by router logit
  std::vector<float> selected;                                 // a row's top-k logits
  std::vector<int64_t> logit_rows;                             // rows that need logits
  std::vector<size_t> logit_offsets;                           // per chunk: its first in logit_all
  AlignedVector<float> logit_normed, logit_all;                // their normed x and logits
  std::vector<AmxAttentionKv> amx_kv;                          // per kv head (AttendAmx)
};

namespace {

// From this many rows on, the row-wise loops (norms, RoPE, SwiGLU of one expert's rows)
// run on the pool; below, a parallel region's wake-up costs more than it saves.
constexpr int kParallelRowLoopRows = 16;

// Attention scratch grows in steps of this many positions.
constexpr size_t kScratchGrowth = 4096;

// The unembedding output buffer is kept between calls for at most this many rows.
constexpr size_t kKeptLogitRows = 64;

// Grows `v` to at least n elements (never shrinks, so later layers reuse the memory).
float* Room(AlignedVector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace

template <typename RowFn>
void Transformer::ForEachRow(int64_t rows, const RowFn& row) {
  auto range = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row(r);
  };
  if (rows >= kParallelRowLoopRows) {
    ctx_.pool().ParallelFor(rows, range);
  } else {
    range(0, rows);
  }
}

FastWeights MakeFastWeights(const ModelWeights& weights, ThreadPool& pool) {
  FastWeights fast;
  for (const LayerWeights& layer : weights.layers()) {
    fast.layers.push_back({QuantizeRows(layer.q, pool), QuantizeRows(layer.k, pool), QuantizeRows(layer.v, pool),
                           QuantizeRows(layer.o, pool)});
  }
  fast.unembedding = QuantizeRows(weights.unembedding(), pool);
  return fast;
}

Transformer::Transformer(const ModelConfig& config, const ModelWeights& weights, KernelContext& ctx,
                         const FastWeights* fast)
    : config_(config),
      weights_(weights),
      ctx_(ctx),
      fast_(fast),
      rope_(config),
      kv_stride_(KvRowStride(config)),
      batch_(std::make_unique<Batch>()) {}

Transformer::~Transformer() = default;

namespace {

// Logits for every position of a chunk that wants them all, else for its last. Those of a
// rounded chunk's every position are rounded, as its other products; the rest are float32.
int64_t LogitRowCount(const ForwardChunk& chunk) {
  const int64_t n = static_cast<int64_t>(chunk.tokens.size());
  return chunk.all_logits ? n : std::min<int64_t>(n, 1);
}
bool LogitsRounded(const ForwardChunk& chunk) { return chunk.rounded && chunk.all_logits; }

}  // namespace

bool FastModeUsesInt8Dense(int rows, int cols) {
  return rows <= kFastMaxRows || (rows <= kFastDenseMaxRows && Int8DenseRunsOnAmx(rows, cols));
}

absl::Status Transformer::Project(const Bf16Matrix& w, const Int8Matrix* fast, const float* x, int64_t rounded_rows,
                                  int64_t rows, const float* bias, float* y) {
  if (rounded_rows > 0) {
    RETURN_IF_ERROR(DenseMatmul(ctx_, w, x, static_cast<int>(rounded_rows), bias, y, DensePath::kAutoRounded));
  }
  const int m = static_cast<int>(rows - rounded_rows);
  if (m == 0) return absl::OkStatus();
  x += rounded_rows * w.cols;
  y += rounded_rows * w.rows;
  if (fast != nullptr && FastModeUsesInt8Dense(m, w.cols)) {
    Int8DenseMatmul(ctx_, *fast, x, m, bias, y);
    return absl::OkStatus();
  }
  return DenseMatmul(ctx_, w, x, m, bias, y, DensePath::kAutoFloat32);
}

absl::Status Transformer::Forward(absl::Span<const ForwardChunk> chunks, std::vector<std::vector<float>>* logits,
                                  const LayerObserver* observer) {
  Batch& batch = *batch_;
  batch.Reset(chunks);
  for (const bool rounded : {true, false}) {
    for (size_t c = 0; c < chunks.size(); ++c) {
      if (chunks[c].rounded != rounded) continue;
      const int64_t start = chunks[c].cache->length();
      RETURN_IF_ERROR(chunks[c].cache->Reserve(start + chunks[c].tokens.size()));
      batch.chunk_first_row[c] = batch.rows;
      batch.chunk_start_position[c] = start;
      for (size_t i = 0; i < chunks[c].tokens.size(); ++i) {
        batch.row_chunk.push_back(static_cast<int>(c));
        batch.row_position.push_back(start + static_cast<int64_t>(i));
      }
      batch.rows += static_cast<int64_t>(chunks[c].tokens.size());
    }
    if (rounded) batch.rounded_rows = batch.rows;
  }
  const absl::Status status = Compute(chunks, batch, logits, observer);
  if (!status.ok()) {
    for (const ForwardChunk& chunk : chunks) chunk.cache->MarkLost(status);
  }
  return status;
}

absl::Status Transformer::Compute(absl::Span<const ForwardChunk> chunks, Batch& batch,
                                  std::vector<std::vector<float>>* logits, const LayerObserver* observer) {
  // Steps on our own kernels only (decode; on AMX machines most prompt chunks up to 192 rows):
  // the pool's spinning workers, for their many short back-to-back loops; steps that
  // call oneDNN: OpenMP, shared with oneDNN's matmuls (thread_pool.h). A 16-row step on the
  // 20b shape took ~700 ms under OpenMP and ~530 ms spinning (2 cores).
  ctx_.pool().SetWaiting(StepRunsOnOneDnn(batch) ? ThreadPool::Waiting::kOpenMp : ThreadPool::Waiting::kSpinning);
  const int h = config_.hidden_size, half = config_.head_dim / 2;
  // 1. Embedding lookup and RoPE angles per row.
  batch.x.resize(batch.rows * h);
  batch.cos.resize(batch.rows * half);
  batch.sin.resize(batch.rows * half);
  for (int64_t r = 0; r < batch.rows; ++r) {
    const int32_t token = chunks[batch.row_chunk[r]].tokens[r - batch.chunk_first_row[batch.row_chunk[r]]];
    Bf16RowToFloat(weights_.embedding().data + static_cast<size_t>(token) * h, h, &batch.x[r * h]);
    rope_.Angles(batch.row_position[r], &batch.cos[r * half], &batch.sin[r * half]);
  }
  // 2. The layers.
  for (int layer = 0; layer < config_.num_layers; ++layer) {
    RETURN_IF_ERROR(AttentionBlock(layer, batch));
    RETURN_IF_ERROR(MlpBlock(layer, batch));
    if (observer != nullptr) {
      for (int64_t r = 0; r < batch.rows; ++r) {
        RETURN_IF_ERROR((*observer)(layer, batch.row_chunk[r], batch.row_position[r], &batch.x[r * h]));
      }
    }
  }
  for (const ForwardChunk& chunk : chunks) {
    chunk.cache->set_length(chunk.cache->length() + static_cast<int64_t>(chunk.tokens.size()));
  }
  // 3. Final norm and unembedding.
  return Logits(batch, logits);
}

absl::Status Transformer::AttentionBlock(int layer, Batch& batch) {
  const LayerWeights& w = weights_.layers()[layer];
  const int h = config_.hidden_size, d = config_.head_dim, half = d / 2;
  const int q_width = config_.num_heads * d, kv_width = config_.num_kv_heads * d;
  const int64_t rows = batch.rows, rounded = batch.rounded_rows;
  float* t = Room(batch.normed, batch.rows * h);
  ForEachRow(batch.rows,
             [&](int64_t r) { RmsNorm(&batch.x[r * h], w.attn_norm.data(), h, config_.rms_norm_eps, &t[r * h]); });
  batch.q.resize(batch.rows * q_width);
  batch.k.resize(batch.rows * kv_stride_);
  batch.v.resize(batch.rows * kv_stride_);
  const FastWeights::Layer* fast = fast_ ? &fast_->layers[layer] : nullptr;
  RETURN_IF_ERROR(Project(w.q, fast ? &fast->q : nullptr, t, rounded, rows, w.q_bias.data(), batch.q.data()));
  float* projected = Room(batch.kv_projected, batch.rows * kv_width);
  const auto spread = [&](AlignedVector<float>& rows_out) {
    for (int64_t r = 0; r < batch.rows; ++r) std::copy_n(&projected[r * kv_width], kv_width, &rows_out[r * kv_stride_]);
  };
  RETURN_IF_ERROR(Project(w.k, fast ? &fast->k : nullptr, t, rounded, rows, w.k_bias.data(), projected));
  spread(batch.k);
  RETURN_IF_ERROR(Project(w.v, fast ? &fast->v : nullptr, t, rounded, rows, w.v_bias.data(), projected));
  spread(batch.v);
  ForEachRow(batch.rows, [&](int64_t r) {
    const float* cos = &batch.cos[r * half];
    const float* sin = &batch.sin[r * half];
    for (int head = 0; head < config_.num_heads; ++head) ApplyRope(&batch.q[r * q_width + head * d], cos, sin, d);
    for (int head = 0; head < config_.num_kv_heads; ++head) ApplyRope(&batch.k[r * kv_stride_ + head * d], cos, sin, d);
  });
  float* attn = Room(batch.attn, batch.rows * q_width);
  // A rounded chunk's rows attend on AMX tiles in full-attention layers, as bf16 inputs
  // cost them no accuracy they still had; every other row on float32.
  const bool amx = rounded > 0 && UsesAmxAttention(layer);
  if (amx) AttendAmx(layer, batch, attn);
  AttendRows(layer, batch, amx ? rounded : 0, attn);
  // The chunk's keys and values enter the caches only now: within a chunk, attention read
  // them from batch.k/v, so a sliding ring may overwrite positions older queries needed.
  for (int64_t r = 0; r < batch.rows; ++r) {
    batch.chunks[batch.row_chunk[r]].cache->Store(layer, batch.row_position[r], &batch.k[r * kv_stride_],
                                                  &batch.v[r * kv_stride_]);
  }
  float* out = Room(batch.projected, batch.rows * h);
  RETURN_IF_ERROR(Project(w.o, fast ? &fast->o : nullptr, attn, rounded, rows, w.o_bias.data(), out));
  for (int64_t i = 0; i < batch.rows * h; ++i) batch.x[i] += out[i];
  return absl::OkStatus();
}

bool Transformer::UsesAmxAttention(int layer) const {
  const int group = config_.num_heads / config_.num_kv_heads;
  return config_.layer_types[layer] != AttentionType::kSliding && group <= kAmxAttentionMaxQueries &&
         AmxAttentionAvailable(config_.head_dim);
}

void Transformer::AttendRows(int layer, const Batch& batch, int64_t first_row, float* attn) const {
  const int q_width = config_.num_heads * config_.head_dim;
  // Work items are (kv head, row) pairs, kv head major: a thread attends every row of a
  // chunk to one kv head's keys and values in a row, so they come from its L2 rather than
  // from L3 once per row (the rows of a chunk share their earlier positions; a 16-row step
  // after a 1,000-token prefix: 0.5 MB per kv head and layer, otherwise re-read 16 times).
  // Within a kv head, rows are taken alternately from both ends of the batch so that a
  // thread's contiguous share holds as many long (late) rows as short ones.
  const int kv_heads = config_.num_kv_heads;
  const int64_t n = batch.rows - first_row;
  if (n <= 0) return;
  ctx_.pool().ParallelFor(n * kv_heads, [&](int64_t begin, int64_t end) {
    // One scratch per pool thread, kept for the thread's life: it grows to the longest
    // attention span seen (per position 2 pointers and a score per query head of the group)
    // and is not reallocated.
    static thread_local AttendScratch scratch;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t order = i % n;
      const int64_t row = first_row + (order % 2 == 0 ? order / 2 : n - 1 - order / 2);
      AttendGroup(layer, batch, row, static_cast<int>(i / n), &scratch, &attn[row * q_width]);
    }
  });
}

// Per chunk: each kv head's keys and values up to the chunk's last position are loaded once
// (bf16 tile layouts), then blocks of consecutive rows attend to them, rows x group query
// heads per tile product (attention_amx.h). Work items: kv heads, then (kv head, block).
void Transformer::AttendAmx(int layer, Batch& batch, float* attn) const {
  const int d = config_.head_dim, kv_heads = config_.num_kv_heads;
  const int group = config_.num_heads / kv_heads;
  const int q_width = config_.num_heads * d;
  const int block_rows = kAmxAttentionMaxQueries / group;
  if (batch.amx_kv.size() < static_cast<size_t>(kv_heads)) batch.amx_kv.resize(kv_heads);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  for (size_t c = 0; c < batch.chunks.size(); ++c) {
    const int64_t first_row = batch.chunk_first_row[c];
    const int64_t end_row = batch.ChunkEndRow(c);
    if (!batch.chunks[c].rounded || end_row <= first_row) continue;
    const int n = static_cast<int>(batch.row_position[end_row - 1] + 1);  // keys the last row sees
    ctx_.pool().ParallelFor(kv_heads, [&](int64_t begin, int64_t end) {
      thread_local std::vector<const float*> keys, values;
      keys.resize(n);
      values.resize(n);
      for (int64_t kv = begin; kv < end; ++kv) {
        KeyValueRows(layer, batch, static_cast<int>(c), 0, n, static_cast<int>(kv), keys.data(), values.data());
        batch.amx_kv[kv].Load(keys.data(), values.data(), n, d);
      }
    });
    const int64_t blocks = (end_row - first_row + block_rows - 1) / block_rows;
    ctx_.pool().ParallelFor(kv_heads * blocks, [&](int64_t begin, int64_t end) {
      thread_local AmxAttentionScratch scratch;
      int visible[kAmxAttentionMaxQueries];
      for (int64_t i = begin; i < end; ++i) {
        const int kv = static_cast<int>(i / blocks);
        const int64_t row0 = first_row + (i % blocks) * block_rows;
        const int rows = static_cast<int>(std::min<int64_t>(block_rows, end_row - row0));
        for (int r = 0; r < rows; ++r) visible[r] = static_cast<int>(batch.row_position[row0 + r] + 1);
        AmxAttentionRows in;
        in.queries = &batch.q[row0 * q_width + static_cast<int64_t>(kv) * group * d];
        in.query_stride = q_width;
        in.sinks = &weights_.layers()[layer].sinks[static_cast<size_t>(kv) * group];
        in.heads = group;
        in.rows = rows;
        in.visible = visible;
        in.scale = scale;
        in.out = &attn[row0 * q_width + static_cast<int64_t>(kv) * group * d];
        in.out_stride = q_width;
        AttendRowsAmx(batch.amx_kv[kv], in, &scratch);
      }
    });
  }
}

// Attention of the query heads that share kv head `kv_head`, for one row, over its
// sequence's visible keys; each head's sink logit is an extra softmax column that
// contributes no value. Writes those heads' outputs into `out` (the row's NH*D floats).
void Transformer::AttendGroup(int layer, const Batch& batch, int64_t row, int kv_head, AttendScratch* scratch,
                              float* out) const {
  const int d = config_.head_dim;
  const int group = config_.num_heads / config_.num_kv_heads;
  const int chunk = batch.row_chunk[row];
  const int64_t position = batch.row_position[row];
  const bool sliding = config_.layer_types[layer] == AttentionType::kSliding;
  const int64_t first = sliding ? std::max<int64_t>(0, position - config_.sliding_window + 1) : 0;
  const int n = static_cast<int>(position - first + 1);
  // Grown in steps of kScratchGrowth positions, so that decoding a long sequence does not
  // reallocate the scratch every time the span passes a power of two.
  if (scratch->keys.capacity() < static_cast<size_t>(n) ||
      scratch->scores.capacity() < static_cast<size_t>(n) * group) {
    const size_t room = (static_cast<size_t>(n) + kScratchGrowth - 1) / kScratchGrowth * kScratchGrowth;
    scratch->keys.reserve(room);
    scratch->values.reserve(room);
    scratch->scores.reserve(room * group);
  }
  scratch->keys.resize(n);
  scratch->values.resize(n);
  scratch->scores.resize(static_cast<size_t>(n) * group);
  KeyValueRows(layer, batch, chunk, first, position + 1, kv_head, scratch->keys.data(), scratch->values.data());
  AttentionGroupInput in;
  in.queries = &batch.q[row * config_.num_heads * d + static_cast<int64_t>(kv_head) * group * d];
  in.sinks = &weights_.layers()[layer].sinks[static_cast<size_t>(kv_head) * group];
  in.heads = group;
  in.keys = scratch->keys.data();
  in.values = scratch->values.data();
  in.n = n;
  in.head_dim = d;
  in.scale = 1.0f / std::sqrt(static_cast<float>(d));
  AttendHeads(in, scratch->scores.data(), out + static_cast<int64_t>(kv_head) * group * d);
}

void Transformer::KeyValueRows(int layer, const Batch& batch, int chunk, int64_t first, int64_t end, int kv_head,
                               const float** keys, const float** values) const {
  const int d = config_.head_dim;
  const SequenceKvCache& cache = *batch.chunks[chunk].cache;
  const int64_t chunk_start = batch.chunk_start_position[chunk];
  const int64_t chunk_row0 = batch.chunk_first_row[chunk];
  for (int64_t p = first; p < end; ++p) {
    const int64_t offset = (chunk_row0 + p - chunk_start) * kv_stride_ + static_cast<int64_t>(kv_head) * d;
    const bool in_chunk = p >= chunk_start;
    keys[p - first] = in_chunk ? &batch.k[offset] : cache.Key(layer, p) + kv_head * d;
    values[p - first] = in_chunk ? &batch.v[offset] : cache.Value(layer, p) + kv_head * d;
  }
}

bool Transformer::StepRunsOnOneDnn(const Batch& batch) const {
  int64_t rounded_logits = 0, float_logits = 0;
  for (const ForwardChunk& chunk : batch.chunks) {
    (LogitsRounded(chunk) ? rounded_logits : float_logits) += LogitRowCount(chunk);
  }
  return GroupRunsOnOneDnn(batch.rounded_rows, rounded_logits, /*rounded=*/true) ||
         GroupRunsOnOneDnn(batch.rows - batch.rounded_rows, float_logits, /*rounded=*/false);
}

bool Transformer::GroupRunsOnOneDnn(int64_t rows, int64_t logit_rows, bool rounded) const {
  const LayerWeights& layer = weights_.layers()[0];  // every layer has the same shapes
  const int h = config_.hidden_size, q_width = config_.num_heads * config_.head_dim;
  const DensePath dense_path = rounded ? DensePath::kAutoRounded : DensePath::kAutoFloat32;
  // Whether Project's product of m rows by a matrix of `cols` columns runs on oneDNN: the
  // fast mode's int8 copies (float32 rows only) never do.
  const auto on_onednn = [&](int m, int cols, bool has_int8_copy) {
    const bool int8 = has_int8_copy && !rounded && fast_ != nullptr && FastModeUsesInt8Dense(m, cols);
    return m > 0 && !int8 && DenseMatmulRunsOnOneDnn(m, cols, dense_path);
  };
  // The projections take every row of the group: the router (bf16 in both modes; q, k and v
  // have its shape), the output projection; the unembedding takes the rows that want logits.
  const int step = static_cast<int>(rows), logits = static_cast<int>(logit_rows);
  if (on_onednn(step, h, /*has_int8_copy=*/false) || on_onednn(step, q_width, /*has_int8_copy=*/true) ||
      on_onednn(logits, h, /*has_int8_copy=*/true)) {
    return true;
  }
  // An expert takes any number of the group's rows.
  const ExpertPath expert_path = rounded ? ExpertPath::kAutoRounded : ExpertPath::kAutoFloat32;
  const Mxfp4Activations packed = rounded ? Mxfp4Activations::kFloat32 : PackedExpertActivations(step);
  for (int m = 1; m <= step; ++m) {
    if (ExpertMatmulRunsOnOneDnn(layer.mlp1[0], m, expert_path, packed) ||
        ExpertMatmulRunsOnOneDnn(layer.mlp2[0], m, expert_path, packed)) {
      return true;
    }
  }
  return false;
}

Mxfp4Activations Transformer::PackedExpertActivations(int batch_rows) const {
  // Int8 activations pay where a vector kernel multiplies them (mxfp4_int8.h: VNNI, or
  // AVX2's vpmaddubsw on CPUs without AVX-512; AVX-512 CPUs without VNNI keep the float32
  // AVX-512 kernel, not measured against the AVX2 int8 one); elsewhere the int8 kernel is
  // portable code, ~15x slower than the float32 kernel, which is also the more exact.
  static const bool int8_pays = CpuHasAvx512Vnni() || (!CpuHasAvx512() && CpuHasAvx2Fma());
  return fast_ != nullptr && int8_pays && batch_rows <= kFastMaxRows ? Mxfp4Activations::kInt8
                                                                     : Mxfp4Activations::kFloat32;
}

absl::Status Transformer::MlpBlock(int layer, Batch& batch) {
  const LayerWeights& w = weights_.layers()[layer];
  const int h = config_.hidden_size;
  const int experts = config_.num_experts, top_k = config_.experts_per_token;
  float* t = Room(batch.normed, batch.rows * h);
  ForEachRow(batch.rows,
             [&](int64_t r) { RmsNorm(&batch.x[r * h], w.mlp_norm.data(), h, config_.rms_norm_eps, &t[r * h]); });
  float* router = Room(batch.router, batch.rows * experts);
  RETURN_IF_ERROR(Project(w.router, nullptr, t, batch.rounded_rows, batch.rows, w.router_bias.data(), router));
  // Top-k experts per row; their weights are a softmax over the k selected logits only.
  auto& routed = batch.routed;
  routed.resize(experts);
  for (auto& rows_of_expert : routed) rows_of_expert.clear();
  std::vector<int>& order = batch.expert_order;
  order.resize(experts);
  std::vector<float>& selected = batch.selected;
  selected.resize(top_k);
  for (int64_t r = 0; r < batch.rows; ++r) {
    const float* logits = &router[r * experts];
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    for (int i = 0; i < top_k; ++i) selected[i] = logits[order[i]];
    Softmax(selected.data(), top_k);
    for (int i = 0; i < top_k; ++i) routed[order[i]].push_back({r, selected[i]});
  }
  // Each expert runs once over every row of a precision group routed to it (rows were
  // routed in order, so the rounded group's rows come first).
  const Mxfp4Activations packed = PackedExpertActivations(static_cast<int>(batch.rows - batch.rounded_rows));
  for (int e = 0; e < experts; ++e) {
    const absl::Span<const std::pair<int64_t, float>> assigned = routed[e];
    const size_t split = static_cast<size_t>(
        std::partition_point(assigned.begin(), assigned.end(),
                             [&](const std::pair<int64_t, float>& row) { return row.first < batch.rounded_rows; }) -
        assigned.begin());
    // A rounded row's x is float32 for the packed kernel (rounded by kAutoRounded itself).
    RETURN_IF_ERROR(
        RunExpert(layer, e, assigned.subspan(0, split), /*rounded=*/true, Mxfp4Activations::kFloat32, batch));
    RETURN_IF_ERROR(RunExpert(layer, e, assigned.subspan(split), /*rounded=*/false, packed, batch));
  }
  return absl::OkStatus();
}

absl::Status Transformer::RunExpert(int layer, int e, absl::Span<const std::pair<int64_t, float>> assigned,
                                    bool rounded, Mxfp4Activations packed, Batch& batch) {
  if (assigned.empty()) return absl::OkStatus();
  const LayerWeights& w = weights_.layers()[layer];
  const int h = config_.hidden_size, inter = config_.intermediate_size;
  const int m = static_cast<int>(assigned.size());
  const float* t = batch.normed.data();
  float* in = Room(batch.expert_in, static_cast<size_t>(m) * h);
  float* hidden = Room(batch.expert_hidden, static_cast<size_t>(m) * 2 * inter);
  float* act = Room(batch.expert_act, static_cast<size_t>(m) * inter);
  float* out = Room(batch.expert_out, static_cast<size_t>(m) * h);
  for (int i = 0; i < m; ++i) std::copy_n(&t[assigned[i].first * h], h, &in[i * h]);
  // kAutoRounded rounds x on every route, so a rounded row's result does not depend on how
  // many rows the other chunks of its step send to this expert.
  const ExpertPath path = rounded ? ExpertPath::kAutoRounded : ExpertPath::kAutoFloat32;
  RETURN_IF_ERROR(
      ExpertMatmul(ctx_, w.mlp1[e], in, m, &w.mlp1_bias[static_cast<size_t>(e) * 2 * inter], hidden, path, packed));
  ForEachRow(m, [&](int64_t i) {
    SwiGlu(&hidden[static_cast<size_t>(i) * 2 * inter], inter, config_.swiglu_limit, config_.swiglu_alpha,
           &act[static_cast<size_t>(i) * inter]);
  });
  RETURN_IF_ERROR(
      ExpertMatmul(ctx_, w.mlp2[e], act, m, &w.mlp2_bias[static_cast<size_t>(e) * h], out, path, packed));
  for (int i = 0; i < m; ++i) {
    float* x = &batch.x[assigned[i].first * h];
    for (int j = 0; j < h; ++j) x[j] += assigned[i].second * out[static_cast<size_t>(i) * h + j];
  }
  return absl::OkStatus();
}

absl::Status Transformer::Logits(Batch& batch, std::vector<std::vector<float>>* logits) {
  const int h = config_.hidden_size, vocab = config_.vocab_size;
  // Gather the rows that need logits from all chunks, so lm_head runs once per precision
  // group: every position of a rounded chunk that wants them all (a scored prompt) rounded,
  // as its other products; last positions (what decode samples from) at float32.
  std::vector<int64_t>& wanted = batch.logit_rows;
  wanted.clear();
  logits->resize(batch.chunks.size());
  std::vector<size_t>& offset_of = batch.logit_offsets;
  offset_of.assign(batch.chunks.size(), 0);
  int64_t rounded_wanted = 0;
  for (const bool rounded : {true, false}) {
    for (size_t c = 0; c < batch.chunks.size(); ++c) {
      const ForwardChunk& chunk = batch.chunks[c];
      if (LogitsRounded(chunk) != rounded) continue;
      const int64_t n = static_cast<int64_t>(chunk.tokens.size());
      const int64_t first = n - LogitRowCount(chunk);
      (*logits)[c].resize(static_cast<size_t>(n - first) * vocab);
      offset_of[c] = wanted.size() * static_cast<size_t>(vocab);
      for (int64_t i = first; i < n; ++i) wanted.push_back(batch.chunk_first_row[c] + i);
    }
    if (rounded) rounded_wanted = static_cast<int64_t>(wanted.size());
  }
  float* normed = Room(batch.logit_normed, wanted.size() * h);
  float* all = Room(batch.logit_all, wanted.size() * static_cast<size_t>(vocab));
  for (size_t i = 0; i < wanted.size(); ++i) {
    RmsNorm(&batch.x[wanted[i] * h], weights_.final_norm().data(), h, config_.rms_norm_eps, &normed[i * h]);
  }
  RETURN_IF_ERROR(Project(weights_.unembedding(), fast_ ? &fast_->unembedding : nullptr, normed, rounded_wanted,
                          static_cast<int64_t>(wanted.size()), nullptr, all));
  // Rows are gathered chunk by chunk, so each chunk's rows are consecutive in `all`.
  for (size_t c = 0; c < batch.chunks.size(); ++c) {
    std::copy_n(all + offset_of[c], (*logits)[c].size(), (*logits)[c].data());
  }
  // Kept for the next step up to a decode batch's worth; the logits of every position of
  // a long prompt (800 KB per row) are not held after the call.
  if (wanted.size() > kKeptLogitRows) {
    batch.logit_all.clear();
    batch.logit_all.shrink_to_fit();
  }
  return absl::OkStatus();
}

}  // namespace warden::model
