#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "model/config.h"
#include "model/kernels/aligned_vector.h"

namespace warden::model {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr size_t kMaxRank = 8;

struct DTypeInfo {
  const char* name;
  DType dtype;
  int size;
};
constexpr DTypeInfo kDTypes[] = {
    {"BF16", DType::kBF16, 2}, {"F16", DType::kF16, 2}, {"F32", DType::kF32, 4},
    {"F64", DType::kF64, 8},   {"U8", DType::kU8, 1},   {"I8", DType::kI8, 1},
    {"I16", DType::kI16, 2},   {"I32", DType::kI32, 4}, {"I64", DType::kI64, 8},
    {"BOOL", DType::kBool, 1}, {"U16", DType::kU16, 2}, {"U32", DType::kU32, 4},
    {"U64", DType::kU64, 8},   {"F8_E4M3", DType::kF8E4M3, 1}, {"F8_E5M2", DType::kF8E5M2, 1},
    {"F8_E8M0", DType::kF8E8M0, 1}, {"C64", DType::kC64, 8},
};

absl::Status TensorError(const std::string& file, const std::string& tensor,
                         const std::string& problem) {
  return absl::DataLossError(absl::StrCat(file, ": tensor '", tensor, "' ", problem));
}

// Reads a non-negative integer that fits in int64.
bool GetCount(const Json& value, uint64_t* out) {
  if (value.is_number_unsigned()) {
    *out = value.get<uint64_t>();
    return *out <= static_cast<uint64_t>(INT64_MAX);
  }
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

absl::StatusOr<TensorView> ParseEntry(const std::string& file, const std::string& name,
                                      const Json& entry, const uint8_t* data, uint64_t data_size) {
  if (!entry.is_object()) return TensorError(file, name, "header entry is not an object");
  auto dtype_it = entry.find("dtype");
  auto shape_it = entry.find("shape");
  auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    return TensorError(file, name, "has no string 'dtype'");
  }
  if (shape_it == entry.end() || !shape_it->is_array() || shape_it->size() > kMaxRank) {
    return TensorError(file, name, "has no valid 'shape' array");
  }
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    return TensorError(file, name, "has no 'data_offsets' pair");
  }
  TensorView view;
  view.name = name;
  view.file = file;
  const std::string dtype_name = dtype_it->get<std::string>();
  const DTypeInfo* info = nullptr;
  for (const DTypeInfo& candidate : kDTypes) {
    if (dtype_name == candidate.name) info = &candidate;
  }
  // A dtype without a known size (an extra tensor the model never reads, say) is kept as
  // kOther: its offsets are checked below, its size is not.
  view.dtype = info == nullptr ? DType::kOther : info->dtype;
  view.dtype_name = dtype_name;
  if (info == nullptr && (dtype_name.empty() || dtype_name.size() > 32)) {
    return TensorError(file, name, "has no valid 'dtype'");
  }
  // Elements, then bytes, each within int64 (NumElements relies on it).
  uint64_t elements = 1;
  for (const Json& dim : *shape_it) {
    uint64_t extent = 0;
    if (!GetCount(dim, &extent)) return TensorError(file, name, "has a non-integer or negative dimension");
    if (extent != 0 && elements > static_cast<uint64_t>(INT64_MAX) / extent) {
      return TensorError(file, name, "shape overflows");
    }
    elements *= extent;
    view.shape.push_back(static_cast<int64_t>(extent));
  }
  const uint64_t size = info == nullptr ? 0 : static_cast<uint64_t>(info->size);
  if (size != 0 && elements > UINT64_MAX / size) return TensorError(file, name, "shape overflows");
  const uint64_t bytes = elements * size;
  uint64_t begin = 0, end = 0;
  if (!GetCount((*offsets_it)[0], &begin) || !GetCount((*offsets_it)[1], &end) || begin > end) {
    return TensorError(file, name, "has invalid data_offsets");
  }
  if (end > data_size) {
    return TensorError(file, name,
                       absl::StrCat("data_offsets [", begin, ", ", end, ") run past the end of the data (",
                                    data_size, " bytes; file truncated?)"));
  }
  if (info != nullptr && end - begin != bytes) {
    return TensorError(file, name,
                       absl::StrCat("holds ", end - begin, " bytes but dtype ", dtype_name,
                                    " and its shape need ", bytes));
  }
  view.data = data + begin;
  view.size_bytes = static_cast<size_t>(bytes);
  return view;
}

// Keys of the top-level object, in order, so duplicates can be detected (a parsed
// nlohmann object silently keeps one of them).
absl::StatusOr<Json> ParseHeaderJson(const std::string& file, const char* text, size_t size,
                                     std::string* duplicate) {
  std::set<std::string> seen;
  Json::parser_callback_t callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth == 1 && event == Json::parse_event_t::key && parsed.is_string()) {
      const std::string key = parsed.get<std::string>();
      if (!seen.insert(key).second && duplicate->empty()) *duplicate = key;
    }
    return true;
  };
  Json header = Json::parse(text, text + size, callback, /*allow_exceptions=*/false);
  if (header.is_discarded()) return absl::DataLossError(absl::StrCat(file, ": header is not valid JSON"));
  if (!header.is_object()) return absl::DataLossError(absl::StrCat(file, ": header is not a JSON object"));
  return header;
}

absl::Status CheckNoOverlap(const std::string& file, const std::map<std::string, TensorView>& tensors) {
  std::vector<const TensorView*> sorted;
  for (const auto& [name, view] : tensors) {
    if (view.size_bytes > 0) sorted.push_back(&view);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->data < sorted[i - 1]->data + sorted[i - 1]->size_bytes) {
      return TensorError(file, sorted[i]->name,
                         absl::StrCat("overlaps tensor '", sorted[i - 1]->name, "'"));
    }
  }
  return absl::OkStatus();
}

struct FileCloser {
  int fd;
  ~FileCloser() { ::close(fd); }
};

// Reads bytes [begin, end) of the file into out + begin. A file that shrinks or fails to
// read meanwhile is an error, never a partly filled buffer.
absl::Status ReadRange(const std::string& path, int fd, char* out, size_t begin, size_t end) {
  constexpr size_t kChunk = size_t{64} << 20;
  for (size_t done = begin; done < end;) {
    const ssize_t got = ::pread(fd, out + done, std::min(end - done, kChunk), static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return absl::DataLossError(absl::StrCat(path, ": read failed: ", std::strerror(errno)));
    if (got == 0) return absl::DataLossError(absl::StrCat(path, ": file shrank while being read"));
    done += static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

// Where the file's bytes start in a resident buffer: `lead` bytes in, so that the tensor
// data (after the 8-byte length and the header) starts on a cache line. Tensor offsets
// within the data are multiples of 64 in every checkpoint we have seen, so their rows then
// start on cache lines too, which the kernels' 32- and 64-byte loads want (a load across
// two lines costs two). A header length that cannot be read gives no lead; ParseHeader
// reports the file.
size_t AlignmentLead(int fd) {
  uint8_t length[8];
  if (::pread(fd, length, sizeof(length), 0) != static_cast<ssize_t>(sizeof(length))) return 0;
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | length[i];
  constexpr uint64_t kLine = kCacheLineBytes;
  return (kLine - (8 + header_len) % kLine) % kLine;
}

// Reads the whole file (size bytes, from fstat) into huge-page memory, starting `lead`
// bytes in. Large files are read by two threads, one per half: the kernel zeroes each
// fresh huge page in the thread that first writes it, and that (not the copy) bounds one
// thread at well under disk speed.
absl::StatusOr<HugePageBuffer> ReadWholeFile(const std::string& path, int fd, size_t size, size_t lead) {
  HugePageBuffer buffer(size + lead);
  if (buffer.data() == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(path, ": no memory to hold the file's ", size,
                                                     " bytes (mapped weights need less: weight_memory mapped)"));
  }
  char* out = static_cast<char*>(buffer.data()) + lead;
  constexpr size_t kSplitAbove = size_t{8} << 20;  // below, a thread costs more than it saves
  if (size < kSplitAbove) {
    RETURN_IF_ERROR(ReadRange(path, fd, out, 0, size));
    return buffer;
  }
  const size_t middle = size / 2;
  absl::Status second_half;
  std::thread reader;
  try {
    reader = std::thread([&] { second_half = ReadRange(path, fd, out, middle, size); });
  } catch (const std::system_error&) {  // no thread to be had: read it all here
    second_half = ReadRange(path, fd, out, middle, size);
  }
  const absl::Status first_half = ReadRange(path, fd, out, 0, middle);
  if (reader.joinable()) reader.join();
  RETURN_IF_ERROR(first_half);
  RETURN_IF_ERROR(second_half);
  return buffer;
}

}  // namespace

int DTypeSize(DType dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == dtype) return info.size;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == dtype) return info.name;
  }
  return "an unsupported dtype";
}

int64_t TensorView::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path,
                                                                         Residency residency) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string message = absl::StrCat(path, ": cannot open: ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::PermissionDeniedError(message);
  }
  const FileCloser closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    return absl::DataLossError(absl::StrCat(path, ": file too short for a safetensors header (",
                                            size, " bytes)"));
  }
  std::unique_ptr<SafetensorsFile> file;
  if (residency == Residency::kResident) {
    const size_t lead = AlignmentLead(fd);
    ASSIGN_OR_RETURN(HugePageBuffer buffer, ReadWholeFile(path, fd, size, lead));
    file.reset(new SafetensorsFile(path, nullptr, std::move(buffer), lead, size));
  } else {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) return absl::InternalError(absl::StrCat(path, ": mmap failed"));
    file.reset(new SafetensorsFile(path, map, HugePageBuffer(), 0, size));
  }
  RETURN_IF_ERROR(file->ParseHeader());
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, size_);
}

const uint8_t* SafetensorsFile::bytes() const {
  if (map_ != nullptr) return static_cast<const uint8_t*>(map_);
  return static_cast<const uint8_t*>(buffer_.data()) + lead_;
}

absl::Status SafetensorsFile::ParseHeader() {
  const uint8_t* bytes = this->bytes();
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxHeaderBytes || header_len > size_ - 8) {
    return absl::DataLossError(absl::StrCat(path_, ": header length ", header_len,
                                            " exceeds the file size ", size_, " or the 100 MB limit"));
  }
  std::string duplicate;
  ASSIGN_OR_RETURN(const Json header,
                   ParseHeaderJson(path_, reinterpret_cast<const char*>(bytes + 8), header_len,
                                   &duplicate));
  if (!duplicate.empty()) return TensorError(path_, duplicate, "appears twice in the header");
  const uint8_t* data = bytes + 8 + header_len;
  const uint64_t data_size = size_ - 8 - header_len;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    ASSIGN_OR_RETURN(TensorView view, ParseEntry(path_, name, entry, data, data_size));
    tensors_.emplace(name, std::move(view));
  }
  return CheckNoOverlap(path_, tensors_);
}

absl::Status SafetensorsArchive::AddFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(path, residency_));
  for (const auto& [name, view] : file->tensors()) {
    if (!index_.emplace(name, &view).second) {
      return TensorError(path, name, "also appears in another shard");
    }
  }
  files_.push_back(std::move(file));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SafetensorsArchive>> SafetensorsArchive::OpenDirectory(
    const std::string& dir, Residency residency) {
  std::unique_ptr<SafetensorsArchive> archive(new SafetensorsArchive(dir, residency));
  const std::string index_path = dir + "/model.safetensors.index.json";
  absl::StatusOr<std::string> index_text = ReadSmallFile(index_path);
  if (absl::IsNotFound(index_text.status())) {
    RETURN_IF_ERROR(archive->AddFile(dir + "/model.safetensors"));
    return archive;
  }
  if (!index_text.ok()) return index_text.status();
  const Json index = Json::parse(*index_text, nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") ||
      !index["weight_map"].is_object()) {
    return absl::DataLossError(index_path + ": not a JSON object with a 'weight_map' object");
  }
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) return TensorError(index_path, tensor, "maps to a non-string shard");
    const std::string name = shard.get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
      return TensorError(index_path, tensor, "maps to a shard name that is not a plain file name");
    }
    shards.insert(name);
  }
  for (const std::string& shard : shards) RETURN_IF_ERROR(archive->AddFile(dir + "/" + shard));
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    auto it = archive->index_.find(tensor);
    if (it == archive->index_.end() || it->second->file != dir + "/" + shard.get<std::string>()) {
      return TensorError(index_path, tensor, "is not in the shard the index names");
    }
  }
  return archive;
}

absl::StatusOr<TensorView> SafetensorsArchive::Get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    return absl::NotFoundError(absl::StrCat(dir_, ": checkpoint has no tensor '", name, "'"));
  }
  return *it->second;
}

}  // namespace warden::model
