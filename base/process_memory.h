// This process's memory as Linux reports it (/proc/self/status, /proc/self/smaps_rollup),
// for the benchmark tool and the server's startup report. Thread-safe (reads /proc only).
#ifndef WARDEN_BASE_PROCESS_MEMORY_H_
#define WARDEN_BASE_PROCESS_MEMORY_H_

#include <string>

namespace warden {

// MiB; a figure the kernel does not report (another OS, an old kernel) reads as 0.
struct ProcessMemory {
  double resident_mb = 0.0;       // VmRSS
  double peak_resident_mb = 0.0;  // VmHWM
  double huge_page_mb = 0.0;      // AnonHugePages: anonymous memory on transparent huge pages
};

ProcessMemory ReadProcessMemory();

// The value of a "Field:   N kB" line of a /proc-style file, in MiB; 0 when the file or the
// field is missing or the value does not parse.
double ProcFieldMb(const std::string& path, const std::string& field);

}  // namespace warden

#endif  // WARDEN_BASE_PROCESS_MEMORY_H_
