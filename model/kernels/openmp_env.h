// OpenMP wait policy for processes that run the engine. The engine runs many short parallel
// regions (one per matmul), so how a worker waits between them matters:
//  - GNU OpenMP's default spins ~300,000 iterations after every region; on cores shared
//    with other work the spinning threads steal the cores the remaining work needs
//    (measured on 2 shared cores: passive waits gave 2x prefill and 7x decode throughput);
//  - passive waits (sleep at once) pay a futex wake-up per region, 7-17 % of prefill CPU;
//  - a short spin (GOMP_SPINCOUNT=20000, tens of microseconds) keeps both: on a quiet 2-core
//    machine, 4-layer 20b shape, 512-token prefill 175-182 -> 240-257 tokens/s against
//    passive; decode within noise.
// libgomp reads these variables once when it loads, before main(), so the only way to
// change them from inside is to re-execute the program with them set.
// Thread safety: call first thing in main(), before any thread starts.
#ifndef WARDEN_MODEL_KERNELS_OPENMP_ENV_H_
#define WARDEN_MODEL_KERNELS_OPENMP_ENV_H_

namespace warden::model {

// If neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets GOMP_SPINCOUNT=20000 and
// re-executes /proc/self/exe with the same arguments (does not return on success). If
// either is set (operators may choose OMP_WAIT_POLICY=passive on busy shared machines, or
// active on dedicated ones) or exec fails, returns and changes nothing.
void ReexecWithShortOpenMpSpinIfUnset(char** argv);

}  // namespace warden::model

#endif  // WARDEN_MODEL_KERNELS_OPENMP_ENV_H_
