// Regression driver for the fuzzers in the normal (gcc) test suite: runs every file of the
// directories (recursively, in sorted order) and every file named on the command line
// through LLVMFuzzerTestOneInput. A fuzzer reports a broken invariant by aborting, which
// fails the test with the file name printed just before.
//
// The first directory argument must exist and hold at least one file (the seed corpus);
// later directories (crash reproducers) may be absent.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> FilesUnder(const std::string& path, std::error_code* error) {
  std::vector<std::string> files;
  if (std::filesystem::is_regular_file(path, *error)) return {path};
  for (auto it = std::filesystem::recursive_directory_iterator(path, *error);
       !*error && it != std::filesystem::recursive_directory_iterator(); it.increment(*error)) {
    if (it->is_regular_file(*error)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool RunFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    return false;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "running %s (%zu bytes)\n", file.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t total = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code error;
    const std::vector<std::string> files = FilesUnder(argv[i], &error);
    if (i == 1 && (error || files.empty())) {
      std::fprintf(stderr, "seed corpus %s is missing or empty\n", argv[i]);
      return 1;
    }
    for (const std::string& file : files) {
      if (!RunFile(file)) return 1;
      ++total;
    }
  }
  std::fprintf(stderr, "%zu inputs passed\n", total);
  return 0;
}
