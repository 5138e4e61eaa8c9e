// Replays every seed (tests/fuzz/corpus/<target>/) and every minimised crasher
// (tests/fuzz/regressions/<target>/) through the fuzz targets' checks under the normal build, so
// each crash a fuzzer found stays fixed. A failing check traps and names the input on stderr.
// Thread-safety: n/a (test).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

// The fuzz targets themselves, compiled into this test so it needs no build rule of its own.
#include "../fuzz/targets.cc"

namespace stafett::fuzz {
namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = fs::path(STAFETT_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> FilesIn(const fs::path& folder) {
  std::vector<fs::path> files;
  if (!fs::is_directory(folder)) return files;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Runs TARGET over every file in FOLDER; returns how many.
size_t Replay(const FuzzTarget& target, const fs::path& folder) {
  const std::vector<fs::path> files = FilesIn(folder);
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    SetCurrentInputName(file.string());
    target.function(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  SetCurrentInputName("");
  return files.size();
}

class FuzzRegressionTest : public ::testing::TestWithParam<FuzzTarget> {};

TEST_P(FuzzRegressionTest, ReplaysItsSeedCorpus) {
  EXPECT_GT(Replay(GetParam(), kFuzzDir / "corpus" / GetParam().name), 0u)
      << "no seeds in tests/fuzz/corpus/" << GetParam().name;
}

// Minimised crashers, one file per bug found (tests/fuzz/README.md says how they get here).
TEST_P(FuzzRegressionTest, ReplaysItsRegressions) {
  Replay(GetParam(), kFuzzDir / "regressions" / GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegressionTest, ::testing::ValuesIn(FuzzTargets()),
                         [](const ::testing::TestParamInfo<FuzzTarget>& target) {
                           return std::string(target.param.name);
                         });

// A folder named after no target would never be replayed.
TEST(FuzzRegressionLayoutTest, EveryFolderNamesATarget) {
  std::set<std::string> names;
  for (const FuzzTarget& target : FuzzTargets()) names.emplace(target.name);
  for (const char* kind : {"corpus", "regressions"}) {
    if (!fs::is_directory(kFuzzDir / kind)) continue;
    for (const fs::directory_entry& entry : fs::directory_iterator(kFuzzDir / kind)) {
      if (!entry.is_directory()) continue;
      EXPECT_TRUE(names.count(entry.path().filename().string()))
          << "tests/fuzz/" << kind << "/" << entry.path().filename().string();
    }
  }
}

// The frame split the frames target uses undoes the join make_corpus writes its seeds with.
TEST(FuzzRegressionLayoutTest, FramesSplitAsJoined) {
  const std::vector<std::string> frames = {"STF1", "HELLO", "", std::string(300, 'x')};
  EXPECT_EQ(SplitFrames(JoinFrames(frames)), frames);
}

}  // namespace
}  // namespace stafett::fuzz
