#include "base/process_memory.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace warden {

double ProcFieldMb(const std::string& path, const std::string& field) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    absl::string_view value(line);
    value.remove_prefix(field.size() + 1);
    if (absl::EndsWith(value, "kB")) value.remove_suffix(2);
    double kb = 0.0;
    return absl::SimpleAtod(value, &kb) && kb >= 0.0 ? kb / 1024.0 : 0.0;
  }
  return 0.0;
}

ProcessMemory ReadProcessMemory() {
  ProcessMemory memory;
  memory.resident_mb = ProcFieldMb("/proc/self/status", "VmRSS");
  memory.peak_resident_mb = ProcFieldMb("/proc/self/status", "VmHWM");
  memory.huge_page_mb = ProcFieldMb("/proc/self/smaps_rollup", "AnonHugePages");
  return memory;
}

}  // namespace warden
