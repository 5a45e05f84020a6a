// OpenMP wait policy for processes that run the engine. GNU OpenMP's workers spin after
// every parallel region by default; the engine runs many short regions (one per matmul),
// so on cores shared with other work the spinning threads steal the cores the remaining
// work needs (measured on 2 shared cores: passive waits gave 2x prefill and 7x decode
// throughput). libgomp reads OMP_WAIT_POLICY once when it loads, before main(), so the
// only way to change it from inside is to re-execute the program with it set.
// Thread safety: call first thing in main(), before any thread starts.
#ifndef WARDEN_MODEL_KERNELS_OPENMP_ENV_H_
#define WARDEN_MODEL_KERNELS_OPENMP_ENV_H_

namespace warden::model {

// If OMP_WAIT_POLICY is unset, sets it to "passive" and re-executes /proc/self/exe with
// the same arguments (does not return on success). If it is set (to anything, so callers
// can choose "active" on dedicated machines) or exec fails, returns and changes nothing.
void ReexecWithPassiveOpenMpWaitsIfUnset(char** argv);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_OPENMP_ENV_H_
