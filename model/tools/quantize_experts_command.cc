// oss quantize-experts: writes an MXFP4 copy of a checkpoint whose experts are stored
// unquantised (model/mxfp4_export.h).
#include <cstdio>

#include "base/status_macros.h"
#include "model/mxfp4_export.h"
#include "model/tools/commands.h"
#include "model/tools/flags.h"

namespace warden::model::tools {

absl::Status RunQuantizeExperts(const Args& args) {
  ASSIGN_OR_RETURN(const Flags flags, Flags::Parse(args, {"model_dir", "out"}));
  ASSIGN_OR_RETURN(const std::string model_dir, flags.Required("model_dir"));
  ASSIGN_OR_RETURN(const std::string out, flags.Required("out"));
  ExportSummary summary;
  RETURN_IF_ERROR(WriteMxfp4Checkpoint(model_dir, out, &summary));
  std::printf("wrote %s: %d expert tensors quantised to MXFP4, %d tensors and %d other files copied, %.1f MB\n",
              out.c_str(), summary.quantised_tensors, summary.copied_tensors, summary.copied_files,
              summary.bytes_written / 1e6);
  return absl::OkStatus();
}

}  // namespace warden::model::tools
