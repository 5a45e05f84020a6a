// Writes a copy of a checkpoint whose experts are stored unquantised (bf16/F16/F32
// fine-tunes, Hugging Face layout) with the experts in MXFP4, as the released gpt-oss
// checkpoints store them, so the quantisation ModelWeights::Load would do at every start
// (≈ 50 s and a read of ≈ 40 GB for a bf16 20b) is done once and the copy can be resident.
//
// The copy: one `model.safetensors` holding every tensor of the source unchanged except each
// `model.layers.N.mlp.experts.{gate_up_proj,down_proj}`, which becomes `..._blocks` and
// `..._scales` (model/unquantised_experts.h), and each F16/F32 matrix, which becomes BF16
// (bit for bit what the load would make of both, so the copy computes what the source does);
// `config.json` with a `quantization_config` of mxfp4 added when absent; every other regular
// file of the source directory (tokenizer, generation config, chat template) copied.
// Subdirectories (such as `original/`) are not copied. The file is written under a temporary
// name and renamed when complete, so a failure (disk full) leaves no partial checkpoint.
//
// Thread safety: pure function of the two directories.
#ifndef WARDEN_MODEL_MXFP4_EXPORT_H_
#define WARDEN_MODEL_MXFP4_EXPORT_H_

#include <string>

#include "absl/status/status.h"

namespace warden::model {

struct ExportSummary {
  int quantised_tensors = 0;  // expert tensors written as MXFP4
  int copied_tensors = 0;     // other tensors (unchanged, or matrices rounded to BF16)
  int copied_files = 0;       // other files of the source directory
  long long bytes_written = 0;  // of model.safetensors
};

// FAILED_PRECONDITION when the source has no unquantised experts (already MXFP4) or
// `out_dir` already holds a checkpoint; INVALID_ARGUMENT when out_dir is in_dir; the load
// errors of the source (shape, dtype, non-finite weight) as they are; DATA_LOSS when writing
// fails.
absl::Status WriteMxfp4Checkpoint(const std::string& in_dir, const std::string& out_dir,
                                  ExportSummary* summary = nullptr);

}  // namespace warden::model

#endif  // WARDEN_MODEL_MXFP4_EXPORT_H_
