// docs/ERRORS.md lists exactly the codes of the catalogue in status.h, with their meanings.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "stafett/core/status.h"

namespace stafett::core {
namespace {

TEST(ErrorsDocTest, EveryCodeIsDocumentedWithItsMeaning) {
  std::ifstream in(std::string(STAFETT_SOURCE_DIR) + "/docs/ERRORS.md");
  ASSERT_TRUE(in);
  std::stringstream text;
  text << in.rdbuf();
  size_t rows = 0;
  for (int i = 0;; ++i) {
    auto code = static_cast<Code>(i);
    std::string_view name = CodeName(code);
    std::string row =
        "| `" + std::string(name) + "` | " + std::string(CodeDescription(code)) + " |";
    EXPECT_NE(text.str().find(row), std::string::npos) << "missing or different: " << row;
    EXPECT_EQ(CodeFromName(name), code);
    ++rows;
    if (code == Code::kInternal) break;
  }
  EXPECT_GT(rows, 20u);
}

TEST(ErrorsDocTest, UnknownNamesAreNotCodes) {
  EXPECT_FALSE(CodeFromName("NOT_A_CODE").has_value());
  EXPECT_EQ(Status(Code::kTooLarge, "x").ToString(), "TOO_LARGE: x");
}

}  // namespace
}  // namespace stafett::core
