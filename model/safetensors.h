// Read-only access to safetensors checkpoints, mapped or read into memory. A file is an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} and the
// tensor bytes. Everything in the header is checked before use (lengths, JSON, dtypes,
// shapes against byte sizes, offsets inside the file, overlaps, duplicates), so a truncated
// or hostile file yields an error naming the file and tensor, never a crash.
//
// Thread safety: immutable after Open; const methods are safe from many threads.
// Ownership: a SafetensorsFile owns its bytes (mapping or buffer); TensorViews point into
// them and are valid while the file (or the SafetensorsArchive holding it) lives.
#ifndef WARDEN_MODEL_SAFETENSORS_H_
#define WARDEN_MODEL_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/kernels/huge_pages.h"
#include "model/weight_options.h"

namespace warden::model {

// kOther: a dtype the reader has no element size for (sub-byte F4/F6 types, names from a
// newer format): the tensor is listed, its offsets checked, but no weight can use it.
enum class DType { kBF16, kF16, kF32, kF64, kU8, kI8, kI16, kI32, kI64, kBool, kU16, kU32, kU64,
                   kF8E4M3, kF8E5M2, kF8E8M0, kC64, kOther };

// Bytes per element; 0 for kOther only.
int DTypeSize(DType dtype);
const char* DTypeName(DType dtype);

struct TensorView {
  std::string name;
  std::string file;  // path, for error messages
  DType dtype = DType::kU8;
  std::string dtype_name;  // As the header spells it (kOther's only name).
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t size_bytes = 0;

  int64_t NumElements() const;
};

class SafetensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path,
                                                               Residency residency = Residency::kMapped);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }

 private:
  SafetensorsFile(std::string path, void* map, HugePageBuffer buffer, size_t lead, size_t size)
      : path_(std::move(path)), map_(map), buffer_(std::move(buffer)), lead_(lead), size_(size) {}
  const uint8_t* bytes() const;
  absl::Status ParseHeader();

  std::string path_;
  void* map_ = nullptr;    // kMapped: the mapping
  HugePageBuffer buffer_;  // kResident: the file's bytes, from lead_ bytes in
  size_t lead_ = 0;        // kResident: puts the tensor data on a cache line
  size_t size_ = 0;        // the file's
  std::map<std::string, TensorView> tensors_;
};

// All tensors of a checkpoint directory: the shards listed by
// `model.safetensors.index.json` when it exists, else `model.safetensors`.
// Thread safety and ownership as SafetensorsFile.
class SafetensorsArchive {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsArchive>> OpenDirectory(
      const std::string& dir, Residency residency = Residency::kMapped);

  // NOT_FOUND naming the tensor and directory when absent.
  absl::StatusOr<TensorView> Get(const std::string& name) const;
  bool Contains(const std::string& name) const { return index_.count(name) > 0; }
  // Every tensor of every file, by name.
  const std::map<std::string, const TensorView*>& tensors() const { return index_; }
  const std::string& dir() const { return dir_; }

 private:
  SafetensorsArchive(std::string dir, Residency residency) : dir_(std::move(dir)), residency_(residency) {}
  absl::Status AddFile(const std::string& path);

  std::string dir_;
  Residency residency_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

}  // namespace warden::model

#endif  // WARDEN_MODEL_SAFETENSORS_H_
