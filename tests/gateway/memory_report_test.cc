#include "gateway/memory_report.h"

#include "gtest/gtest.h"

namespace warden::gateway {
namespace {

ProcessMemory Memory(double resident_mb, double huge_page_mb) {
  ProcessMemory memory;
  memory.resident_mb = resident_mb;
  memory.peak_resident_mb = resident_mb;
  memory.huge_page_mb = huge_page_mb;
  return memory;
}

TEST(MemoryReport, OneLineWhenTheWeightsAreOnHugePages) {
  // The full 20b after a clean load (session 13): 13,130 of 13,242 MB on huge pages.
  const auto lines = MemoryReportLines(Memory(13242, 13130), true);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "memory: resident 13242 MB, 13130 MB of it on 2 MB huge pages (weights resident)");
}

TEST(MemoryReport, WarnsWhenResidentWeightsWereLeftOnSmallPages) {
  // Session 13's stale-page-cache load: 2.2 GB of the weights on 4 KB pages.
  const auto lines = MemoryReportLines(Memory(13242, 11000), true);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("warning: 2242 MB of resident memory is on 4 KB pages"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("drop_caches"), std::string::npos);
  EXPECT_NE(lines[1].find("transparent_hugepage/enabled"), std::string::npos);
}

TEST(MemoryReport, WarnsWhenHugePagesAreOffOrUnreported) {
  EXPECT_EQ(MemoryReportLines(Memory(13242, 0), true).size(), 2u);
}

TEST(MemoryReport, NoWarningForMappedWeightsOrASmallProcess) {
  // Mapped weights live in the page cache on 4 KB pages by design.
  const auto mapped = MemoryReportLines(Memory(13242, 0), false);
  ASSERT_EQ(mapped.size(), 1u);
  EXPECT_NE(mapped[0].find("mapped from the page cache"), std::string::npos);
  // The tiny demo model: everything small, nothing worth a warning.
  EXPECT_EQ(MemoryReportLines(Memory(900, 0), true).size(), 1u);
  // Just over the absolute floor but under a tenth of a large process: no warning.
  EXPECT_EQ(MemoryReportLines(Memory(20000, 18900), true).size(), 1u);
  // Over a tenth but under the absolute floor: no warning.
  EXPECT_EQ(MemoryReportLines(Memory(2000, 1000), true).size(), 1u);
}

TEST(MemoryReport, RecordsTheMemoryGaugesInBytes) {
  Metrics metrics;
  RecordProcessMemory(Memory(2.5, 2), metrics);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("warden_process_resident_bytes 2621440\n"), std::string::npos) << text;
  EXPECT_NE(text.find("warden_process_huge_page_bytes 2097152\n"), std::string::npos) << text;
  RecordProcessMemory(Memory(3, 0), metrics);  // a later scrape replaces the values
  EXPECT_NE(metrics.RenderPrometheus().find("warden_process_resident_bytes 3145728\n"), std::string::npos);
}

}  // namespace
}  // namespace warden::gateway
