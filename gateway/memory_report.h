// What the server prints about its memory once the model is loaded: the resident size and
// how much of it sits on 2 MB transparent huge pages, and a warning when resident weights
// were left on 4 KB pages. Why it matters: decode streams every weight once per token, and
// from 4 KB pages that measured slower (session 13: 2.2 GB of the full 20b on 4 KB pages made
// the unembedding 53 instead of 41-47 ms per token; README "Engine speed" says how to avoid it).
// Thread-safe (MemoryReportLines is pure; RecordProcessMemory relies on Metrics' own lock).
#ifndef WARDEN_GATEWAY_MEMORY_REPORT_H_
#define WARDEN_GATEWAY_MEMORY_REPORT_H_

#include <string>
#include <vector>

#include "base/process_memory.h"
#include "gateway/metrics.h"

namespace warden::gateway {

// Below this much memory off huge pages nothing is worth a warning (the tiny demo model,
// the server's own heap).
inline constexpr double kSmallPageWarningMb = 1024.0;

// One "resident ... MB, ... MB on huge pages" line, then, when `weights_resident` and more
// than kSmallPageWarningMb and more than a tenth of the resident memory is not on huge
// pages, a warning line naming the likely causes and the remedy.
std::vector<std::string> MemoryReportLines(const ProcessMemory& memory, bool weights_resident);

// Sets the warden_process_resident_bytes and warden_process_huge_page_bytes gauges (the
// metrics endpoint calls it before each render, so a scrape sees the current figures).
void RecordProcessMemory(const ProcessMemory& memory, Metrics& metrics);

}  // namespace warden::gateway

#endif  // WARDEN_GATEWAY_MEMORY_REPORT_H_
