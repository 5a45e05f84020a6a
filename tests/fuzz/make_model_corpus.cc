// Writes the seed corpora of the classifier_model and model_config fuzzers: small model
// files of every kind and version (linear v1, linear counting once v3, embedding bag,
// ensemble, ensemble with a stacking layer), each with the option byte 0 and 1, and the
// Hugging Face config.json of every preset. Run from the repository root:
//   bazel run //tests/fuzz:make_model_corpus -- $PWD/tests/fuzz/corpus
// Deterministic.
#include <cstdio>
#include <fstream>
#include <string>

#include "model/checkpoint_writer.h"
#include "model/config.h"
#include "moderation/model_file.h"
#include "tests/moderation/small_models.h"

namespace {

using namespace warden::moderation;  // NOLINT: a small tool.

bool Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

ModelFileContents Ensemble(bool stacking) {
  ModelFileContents e;
  e.kind = ModelKind::kEnsemble;
  e.linear = testing::SmallLinearModel();
  e.linear.features.repeats = 1;
  e.linear.features.length_norm = 2;
  e.bag = testing::SmallBagModel(1);
  e.ensemble_id = stacking ? "ens-stacked" : "ens";
  e.ensemble_hierarchy = Hierarchy::kChildAtMostParent;
  for (int c = 0; c < kNumCategories; ++c) e.ensemble_threshold[c] = 0.4f + 0.01f * c;
  if (stacking) {
    StackingLayer layer;
    for (int c = 0; c < kNumCategories; ++c) {
      layer.bias[c] = -0.1f * c;
      layer.weight[c * kNumCategories + (c + 1) % kNumCategories] = 0.25f;
    }
    e.ensemble_stacking = layer;
  }
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_model_corpus CORPUS_DIR (its classifier_model/ and model_config/ must exist)\n");
    return 2;
  }
  const std::string root = argv[1];
  ModelFileContents linear;
  linear.linear = testing::SmallLinearModel();
  ModelFileContents repeats = linear;
  repeats.linear.features.repeats = 1;
  repeats.linear.features.length_norm = 2;
  ModelFileContents bag;
  bag.kind = ModelKind::kEmbeddingBag;
  bag.bag = testing::SmallBagModel(0);
  const std::pair<const char*, ModelFileContents> models[] = {
      {"linear_v1", linear}, {"linear_v3", repeats}, {"bag", bag}, {"ensemble", Ensemble(false)},
      {"ensemble_stacking", Ensemble(true)}};
  for (const auto& [name, contents] : models) {
    const absl::StatusOr<std::string> bytes = SerializeModelFile(contents);
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, bytes.status().ToString().c_str());
      return 1;
    }
    for (char option : {'\0', '\1'}) {
      const std::string path = root + "/classifier_model/" + name + (option ? "_crc" : "");
      if (!Write(path, std::string(1, option) + *bytes)) return 1;
    }
  }
  for (const char* preset : {"tiny", "20b", "120b"}) {
    const auto config = warden::model::PresetConfig(preset);
    if (!config.ok() || !Write(root + "/model_config/" + preset + ".json", warden::model::ToHfConfigJson(*config))) {
      return 1;
    }
  }
  return 0;
}
