#include "model/mxfp4_export.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/file.h"
#include "base/status_macros.h"
#include "model/config.h"
#include "model/safetensors.h"
#include "model/tensor_convert.h"
#include "model/unquantised_experts.h"
#include "nlohmann/json.hpp"

namespace warden::model {
namespace {

namespace fs = std::filesystem;

// One tensor of the output file: copied from a source tensor, or one half (blocks, scales)
// of a source expert tensor quantised.
struct Entry {
  enum class Kind { kCopy, kBlocks, kScales, kToBf16 };
  Kind kind = Kind::kCopy;
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  size_t bytes = 0;
  int element_size = 0;  // orders the file: larger elements first keep every tensor aligned
  const TensorView* source = nullptr;
  int experts = 0, rows = 0, cols = 0;  // kBlocks / kScales
};

// rows x cols of each expert of `name` when it is an unquantised expert tensor of `config`
// ("model.layers.<N>.mlp.experts.gate_up_proj" or "...down_proj").
std::optional<std::pair<int, int>> ExpertMatrixShape(absl::string_view name, const ModelConfig& config) {
  if (!absl::ConsumePrefix(&name, "model.layers.")) return std::nullopt;
  const size_t digits = name.find_first_not_of("0123456789");
  if (digits == 0 || digits == absl::string_view::npos) return std::nullopt;
  name.remove_prefix(digits);
  if (name == ".mlp.experts.gate_up_proj") return std::make_pair(2 * config.intermediate_size, config.hidden_size);
  if (name == ".mlp.experts.down_proj") return std::make_pair(config.hidden_size, config.intermediate_size);
  return std::nullopt;
}

std::vector<Entry> PlanEntries(const SafetensorsArchive& archive, const ModelConfig& config) {
  std::vector<Entry> entries;
  for (const auto& [name, view] : archive.tensors()) {
    if (const auto shape = ExpertMatrixShape(name, config)) {
      const auto [rows, cols] = *shape;
      const int experts = config.num_experts;
      const int64_t nblocks = cols / 32;
      entries.push_back({Entry::Kind::kBlocks, name + "_blocks", "U8", {experts, rows, nblocks, 16},
                         static_cast<size_t>(experts) * rows * nblocks * 16, 1, view, experts, rows, cols});
      entries.push_back({Entry::Kind::kScales, name + "_scales", "U8", {experts, rows, nblocks},
                         static_cast<size_t>(experts) * rows * nblocks, 1, view, experts, rows, cols});
      continue;
    }
    if (view->shape.size() == 2 && (view->dtype == DType::kF32 || view->dtype == DType::kF16)) {
      // A dense matrix the load would round to bf16: rounded here, the same way.
      entries.push_back({Entry::Kind::kToBf16, name, "BF16", view->shape,
                         static_cast<size_t>(view->NumElements()) * 2, 2, view, 0, 0, 0});
      continue;
    }
    entries.push_back({Entry::Kind::kCopy, name, view->dtype_name, view->shape, view->size_bytes,
                       DTypeSize(view->dtype), view, 0, 0, 0});
  }
  // Stable: name order within an element size, blocks right before their scales.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.element_size > b.element_size; });
  return entries;
}

// The safetensors header for `entries` in order, padded with spaces to a multiple of 8 bytes.
std::string Header(const std::vector<Entry>& entries) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  size_t offset = 0;
  for (const Entry& entry : entries) {
    header[entry.name] = {{"dtype", entry.dtype}, {"shape", entry.shape}, {"data_offsets", {offset, offset + entry.bytes}}};
    offset += entry.bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)), file_(std::fopen(path_.c_str(), "wb")) {}
  ~OutputFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) std::remove(path_.c_str());
  }
  bool is_open() const { return file_ != nullptr; }

  absl::Status Write(const void* data, size_t bytes) {
    if (std::fwrite(data, 1, bytes, file_) != bytes) {
      return absl::DataLossError(absl::StrCat(path_, ": write failed: ", std::strerror(errno)));
    }
    written_ += bytes;
    return absl::OkStatus();
  }

  // Flushes to the disk and renames to `final_path`.
  absl::Status Commit(const std::string& final_path) {
    const bool flushed = std::fflush(file_) == 0 && ::fsync(fileno(file_)) == 0;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!flushed || !closed || std::rename(path_.c_str(), final_path.c_str()) != 0) {
      return absl::DataLossError(absl::StrCat(final_path, ": cannot complete the file: ", std::strerror(errno)));
    }
    committed_ = true;
    return absl::OkStatus();
  }
  long long written() const { return written_; }

 private:
  std::string path_;
  FILE* file_;
  bool committed_ = false;
  long long written_ = 0;
};

absl::Status WriteAsBf16(const TensorView& view, OutputFile& out) {
  constexpr size_t kChunk = 1 << 20;
  std::vector<uint16_t> chunk;
  const size_t count = static_cast<size_t>(view.NumElements());
  for (size_t begin = 0; begin < count; begin += kChunk) {
    chunk.resize(std::min(kChunk, count - begin));
    RoundToBf16(view, begin, chunk.size(), chunk.data());
    RETURN_IF_ERROR(out.Write(chunk.data(), chunk.size() * sizeof(uint16_t)));
  }
  return absl::OkStatus();
}

absl::Status WriteTensors(const std::vector<Entry>& entries, OutputFile& out) {
  std::optional<QuantisedExperts> pending;  // blocks written, scales next
  for (const Entry& entry : entries) {
    if (entry.kind == Entry::Kind::kCopy) {
      RETURN_IF_ERROR(out.Write(entry.source->data, entry.bytes));
    } else if (entry.kind == Entry::Kind::kToBf16) {
      RETURN_IF_ERROR(WriteAsBf16(*entry.source, out));
    } else if (entry.kind == Entry::Kind::kBlocks) {
      ASSIGN_OR_RETURN(QuantisedExperts quantised,
                       QuantiseTransposedExperts(*entry.source, entry.experts, entry.rows, entry.cols));
      RETURN_IF_ERROR(out.Write(quantised.blocks.data(), entry.bytes));
      pending = std::move(quantised);
    } else {
      RETURN_IF_ERROR(out.Write(pending->scales.data(), entry.bytes));
      pending.reset();
    }
  }
  return absl::OkStatus();
}

absl::Status WriteConfig(const std::string& in_dir, const std::string& out_dir) {
  ASSIGN_OR_RETURN(const std::string text, ReadFile(in_dir + "/config.json"));
  nlohmann::ordered_json config = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(in_dir, "/config.json: not a JSON object"));
  }
  if (!config.contains("quantization_config") || config["quantization_config"].is_null()) {
    config["quantization_config"] = {
        {"quant_method", "mxfp4"},
        {"modules_to_not_convert",
         {"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"}}};
  }
  const std::string out = config.dump(2) + "\n";
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen((out_dir + "/config.json").c_str(), "wb"), &std::fclose);
  if (!file || std::fwrite(out.data(), 1, out.size(), file.get()) != out.size()) {
    return absl::DataLossError(absl::StrCat(out_dir, "/config.json: cannot write"));
  }
  return absl::OkStatus();
}

// Copies the source directory's other regular files (tokenizer, generation config, ...).
absl::StatusOr<int> CopyOtherFiles(const std::string& in_dir, const std::string& out_dir) {
  int copied = 0;
  std::error_code error;
  for (const fs::directory_entry& file : fs::directory_iterator(in_dir, error)) {
    const std::string name = file.path().filename().string();
    if (!file.is_regular_file(error) || absl::EndsWith(name, ".safetensors") ||
        name == "model.safetensors.index.json" || name == "config.json") {
      continue;
    }
    if (!fs::copy_file(file.path(), fs::path(out_dir) / name, fs::copy_options::overwrite_existing, error)) {
      return absl::DataLossError(absl::StrCat(out_dir, "/", name, ": cannot copy: ", error.message()));
    }
    ++copied;
  }
  if (error) return absl::NotFoundError(absl::StrCat(in_dir, ": cannot list: ", error.message()));
  return copied;
}

absl::Status CheckDirectories(const std::string& in_dir, const std::string& out_dir) {
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) return absl::PermissionDeniedError(absl::StrCat(out_dir, ": cannot create: ", error.message()));
  if (fs::equivalent(in_dir, out_dir, error)) {
    return absl::InvalidArgumentError("the output directory is the source directory; write the copy elsewhere");
  }
  for (const char* existing : {"model.safetensors", "model.safetensors.index.json"}) {
    if (fs::exists(fs::path(out_dir) / existing, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat(out_dir, " already holds a checkpoint (", existing, "); choose an empty directory"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteMxfp4Checkpoint(const std::string& in_dir, const std::string& out_dir, ExportSummary* summary) {
  ASSIGN_OR_RETURN(const ModelConfig config, LoadConfig(in_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsArchive> archive,
                   SafetensorsArchive::OpenDirectory(in_dir, Residency::kMapped));
  const std::vector<Entry> entries = PlanEntries(*archive, config);
  const int quantised = static_cast<int>(
      std::count_if(entries.begin(), entries.end(), [](const Entry& e) { return e.kind == Entry::Kind::kBlocks; }));
  if (quantised == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(in_dir, ": no unquantised expert tensors (model.layers.N.mlp.experts.gate_up_proj / "
                             "down_proj); the checkpoint is already MXFP4 or not in the Hugging Face layout"));
  }
  RETURN_IF_ERROR(CheckDirectories(in_dir, out_dir));
  OutputFile out(out_dir + "/model.safetensors.partial");
  if (!out.is_open()) return absl::PermissionDeniedError(absl::StrCat(out_dir, ": cannot create model.safetensors"));
  const std::string header = Header(entries);
  const uint64_t header_size = header.size();  // little-endian on every machine Warden builds for
  RETURN_IF_ERROR(out.Write(&header_size, sizeof(header_size)));
  RETURN_IF_ERROR(out.Write(header.data(), header.size()));
  RETURN_IF_ERROR(WriteTensors(entries, out));
  RETURN_IF_ERROR(out.Commit(out_dir + "/model.safetensors"));
  RETURN_IF_ERROR(WriteConfig(in_dir, out_dir));
  ASSIGN_OR_RETURN(const int copied_files, CopyOtherFiles(in_dir, out_dir));
  if (summary != nullptr) {
    summary->quantised_tensors = quantised;
    summary->copied_tensors = static_cast<int>(entries.size()) - 2 * quantised;
    summary->copied_files = copied_files;
    summary->bytes_written = out.written();
  }
  return absl::OkStatus();
}

}  // namespace warden::model
