#include "model/kernels/openmp_env.h"

#include <unistd.h>

#include <cstdlib>

namespace warden::model {

void ReexecWithShortOpenMpSpinIfUnset(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (::setenv("GOMP_SPINCOUNT", "20000", /*overwrite=*/0) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed: run on with the default policy (the variable stays set for children).
}

}  // namespace warden::model
