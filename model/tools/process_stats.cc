#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

#include "model/tools/commands.h"

namespace warden::model::tools {
namespace {

double StatusFieldMb(const std::string& field) {
  std::ifstream in("/proc/self/status");
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

double PeakResidentMb() { return StatusFieldMb("VmHWM"); }
double ResidentMb() { return StatusFieldMb("VmRSS"); }

}  // namespace warden::model::tools
