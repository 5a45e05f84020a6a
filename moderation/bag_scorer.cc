#include "moderation/bag_scorer.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "base/status_macros.h"

namespace warden::moderation {
namespace {

constexpr uint32_t kMaxDim = 256;
constexpr uint32_t kMaxHidden = 512;
constexpr size_t kPrefetchAhead = 16;

void AccumulatePortable(const int8_t* table, size_t rows, uint32_t dim,
                        absl::Span<const uint32_t> features, int32_t* acc) {
  for (const uint32_t f : features) {
    if (f >= rows) continue;
    const int8_t* row = table + size_t{f} * dim;
    for (uint32_t d = 0; d < dim; ++d) acc[d] += row[d];
  }
}

// Eight int8 lanes at a time widened to int32; the accumulators stay in registers for the
// common widths (dim <= 64) because the compiler keeps `sums` in ymm registers.
__attribute__((target("avx2"))) void AccumulateAvx2(const int8_t* table, size_t rows, uint32_t dim,
                                                    absl::Span<const uint32_t> features,
                                                    int32_t* acc) {
  const uint32_t groups = dim / 8;
  __m256i sums[kMaxDim / 8];
  for (uint32_t g = 0; g < groups; ++g) sums[g] = _mm256_setzero_si256();
  for (size_t i = 0; i < features.size(); ++i) {
    // Rows are scattered over a table larger than L2; asking for a row a few features
    // ahead overlaps the misses.
    if (i + kPrefetchAhead < features.size() && features[i + kPrefetchAhead] < rows) {
      __builtin_prefetch(table + size_t{features[i + kPrefetchAhead]} * dim);
    }
    const uint32_t f = features[i];
    if (f >= rows) continue;
    const int8_t* row = table + size_t{f} * dim;
    for (uint32_t g = 0; g < groups; ++g) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 8 * g));
      sums[g] = _mm256_add_epi32(sums[g], _mm256_cvtepi8_epi32(bytes));
    }
  }
  for (uint32_t g = 0; g < groups; ++g) {
    alignas(32) int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sums[g]);
    for (int k = 0; k < 8; ++k) acc[8 * g + k] += lanes[k];
  }
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void AccumulateEmbeddingRows(const int8_t* table, size_t rows, uint32_t dim,
                             absl::Span<const uint32_t> features, int32_t* acc) {
  if (HasAvx2() && dim % 8 == 0 && dim <= kMaxDim) {
    AccumulateAvx2(table, rows, dim, features, acc);
  } else {
    AccumulatePortable(table, rows, dim, features, acc);
  }
}

absl::StatusOr<BagScorer> BagScorer::Create(BagModel model) {
  RETURN_IF_ERROR(ValidateBagModel(model));
  return BagScorer(std::move(model));
}

std::array<float, kNumCategories> BagScorer::Scores(absl::Span<const uint32_t> features) const {
  const BagModel& m = model_;
  const uint32_t dim = m.dim;
  int32_t acc[kMaxDim] = {};
  const size_t rows = size_t{1} << m.features.buckets_log2;
  AccumulateEmbeddingRows(m.embeddings.data(), rows, dim, features, acc);
  const float norm = LengthNorm(m.features, features.size());
  float bag[kMaxDim];
  for (uint32_t d = 0; d < dim; ++d) bag[d] = norm * m.embedding_scale[d] * static_cast<float>(acc[d]);
  float hidden[kMaxHidden];
  const float* x = bag;
  if (m.hidden > 0) {
    for (uint32_t j = 0; j < m.hidden; ++j) {
      const float* w = &m.hidden_weights[size_t{j} * dim];
      float sum = m.hidden_bias[j];
      for (uint32_t d = 0; d < dim; ++d) sum += w[d] * bag[d];
      hidden[j] = std::max(sum, 0.0f);
    }
    x = hidden;
  }
  const uint32_t inputs = HeadInputs(m);
  std::array<float, kNumCategories> out{};
  for (int c = 0; c < kNumCategories; ++c) {
    const float* w = &m.out_weights[static_cast<size_t>(c) * inputs];
    float logit = m.out_bias[c];
    for (uint32_t k = 0; k < inputs; ++k) logit += w[k] * x[k];
    out[c] = Sigmoid(logit);
  }
  ApplyHierarchy(m.hierarchy, out);
  return out;
}

}  // namespace warden::moderation
