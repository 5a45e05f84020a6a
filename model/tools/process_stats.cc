#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

#include "model/tools/commands.h"

namespace warden::model::tools {
namespace {

// A "Field:   N kB" line of a /proc file, in MiB; 0 when the file or field is missing.
double ProcFieldMb(const char* path, const std::string& field) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    absl::string_view value(line);
    value.remove_prefix(field.size() + 1);
    if (absl::EndsWith(value, "kB")) value.remove_suffix(2);
    double kb = 0.0;
    return absl::SimpleAtod(value, &kb) ? kb / 1024.0 : 0.0;
  }
  return 0.0;
}

}  // namespace

double PeakResidentMb() { return ProcFieldMb("/proc/self/status", "VmHWM"); }
double ResidentMb() { return ProcFieldMb("/proc/self/status", "VmRSS"); }
double HugePageMb() { return ProcFieldMb("/proc/self/smaps_rollup", "AnonHugePages"); }

}  // namespace warden::model::tools
