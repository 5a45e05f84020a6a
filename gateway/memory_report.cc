#include "gateway/memory_report.h"

#include "absl/strings/str_format.h"

namespace warden::gateway {

std::vector<std::string> MemoryReportLines(const ProcessMemory& memory, bool weights_resident) {
  std::vector<std::string> lines;
  lines.push_back(absl::StrFormat("memory: resident %.0f MB, %.0f MB of it on 2 MB huge pages (weights %s)",
                                  memory.resident_mb, memory.huge_page_mb,
                                  weights_resident ? "resident" : "mapped from the page cache"));
  const double small_pages_mb = memory.resident_mb - memory.huge_page_mb;
  if (weights_resident && small_pages_mb > kSmallPageWarningMb && small_pages_mb > 0.1 * memory.resident_mb) {
    lines.push_back(absl::StrFormat(
        "warning: %.0f MB of resident memory is on 4 KB pages; weights there make decode slower. Transparent huge pages "
        "must be \"madvise\" or \"always\" in /sys/kernel/mm/transparent_hugepage/enabled, and stale page cache "
        "can use up the free huge pages: `echo 1 > /proc/sys/vm/drop_caches` before starting (README \"Engine "
        "speed\")",
        small_pages_mb));
  }
  return lines;
}

void RecordProcessMemory(const ProcessMemory& memory, Metrics& metrics) {
  constexpr double kBytesPerMb = 1024.0 * 1024.0;
  metrics.SetGauge("warden_process_resident_bytes", {}, memory.resident_mb * kBytesPerMb);
  metrics.SetGauge("warden_process_huge_page_bytes", {}, memory.huge_page_mb * kBytesPerMb);
}

}  // namespace warden::gateway
