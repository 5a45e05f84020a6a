#include "base/process_memory.h"

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace warden {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = std::string(::testing::TempDir()) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ProcFieldMb, ReadsTheNamedFieldInMebibytes) {
  const std::string path = WriteFile("status", "Name:\ttest\nVmHWM:\t    4096 kB\nVmRSS:\t    2048 kB\n");
  EXPECT_DOUBLE_EQ(ProcFieldMb(path, "VmRSS"), 2.0);
  EXPECT_DOUBLE_EQ(ProcFieldMb(path, "VmHWM"), 4.0);
}

TEST(ProcFieldMb, MatchesTheWholeFieldNameOnly) {
  // "AnonHugePages" must not be read from "ShmemHugePages" or "AnonHugePagesX".
  const std::string path = WriteFile("rollup", "ShmemHugePages:   1024 kB\nAnonHugePagesX:  512 kB\nAnonHugePages:  3072 kB\n");
  EXPECT_DOUBLE_EQ(ProcFieldMb(path, "AnonHugePages"), 3.0);
}

TEST(ProcFieldMb, MissingFileFieldOrNumberReadsAsZero) {
  EXPECT_EQ(ProcFieldMb(std::string(::testing::TempDir()) + "/no-such-file", "VmRSS"), 0.0);
  const std::string path = WriteFile("broken", "VmRSS:\tlots kB\nVmHWM:\t-5 kB\n");
  EXPECT_EQ(ProcFieldMb(path, "VmRSS"), 0.0);
  EXPECT_EQ(ProcFieldMb(path, "VmHWM"), 0.0);
  EXPECT_EQ(ProcFieldMb(path, "VmSwap"), 0.0);
}

TEST(ReadProcessMemory, ReportsThisProcessOnLinux) {
  const ProcessMemory memory = ReadProcessMemory();
  EXPECT_GT(memory.resident_mb, 0.0);
  EXPECT_GE(memory.peak_resident_mb, memory.resident_mb);
  EXPECT_GE(memory.huge_page_mb, 0.0);
}

}  // namespace
}  // namespace warden
