#include "model/kernels/kernel_context.h"

#include <utility>

#include "absl/status/status.h"
#include "model/kernels/dnnl_state.h"

namespace warden::model {

absl::StatusOr<std::unique_ptr<KernelContext>> KernelContext::Create(
    const KernelOptions& options) {
  auto state = std::make_unique<DnnlState>();
  try {
    state->engine = dnnl::engine(dnnl::engine::kind::cpu, 0);
    state->stream = dnnl::stream(state->engine);
  } catch (const dnnl::error& e) {
    return absl::InternalError(std::string("oneDNN CPU engine unavailable: ") + e.what());
  }
  return std::unique_ptr<KernelContext>(new KernelContext(options.threads, std::move(state)));
}

KernelContext::KernelContext(int threads, std::unique_ptr<DnnlState> dnnl)
    : pool_(threads), dnnl_(std::move(dnnl)) {
  dnnl_->pool = &pool_;
}

KernelContext::~KernelContext() = default;

}  // namespace warden::model
