#include "model/kernels/openmp_env.h"

#include <unistd.h>

#include <cstdlib>

namespace warden::model {

void ReexecWithPassiveOpenMpWaitsIfUnset(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (::setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed: run on with the default policy (the variable stays set for children).
}

}  // namespace warden::model
