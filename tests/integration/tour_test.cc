// The examples tour (issue 14 item 18): in the `three` sandbox, with the real broker and the three
// agents as processes on loopback, `stafett county tour` drops every valid outbox example of
// schemas/examples in the order of tour.json. Every step ends as the tour says — delivered to
// every recipient (its inbox file is there), or the one refusal before consent — the tour names
// every valid outbox example, and a second run on the same sandbox is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "integration/support/agent_sandbox.h"

namespace stafett::testing {
namespace {

using std::chrono::seconds;

const std::string kExamples = std::string(STAFETT_SOURCE_DIR) + "/schemas/examples";

nlohmann::json ReadJson(const std::string& path) {
  std::string text;
  EXPECT_TRUE(ReadWholeFile(path, &text)) << path;
  return nlohmann::json::parse(text, nullptr, false);
}

TEST(TourTest, EveryValidExampleIsDeliveredInTourOrder) {
  AgentSandbox sandbox("three");
  ASSERT_TRUE(sandbox.ok()) << sandbox.error();
  ASSERT_TRUE(sandbox.StartBroker()) << sandbox.LogOf("broker");
  for (const char* id : {"flen.school", "flen.social", "region.health"}) {
    ASSERT_TRUE(sandbox.StartAgent(id)) << sandbox.LogOf(id);
  }
  std::string output;
  int status = RunStafett({"county", "tour", sandbox.county_dir(), "--examples", kExamples},
                          &output, 600000);
  ASSERT_EQ(status, 0) << output << sandbox.LogOf("broker");

  nlohmann::json tour = ReadJson(kExamples + "/tour.json");
  ASSERT_TRUE(tour.is_object());
  size_t delivered = 0, refused = 0;
  std::set<std::string> toured;
  for (const nlohmann::json& step : tour["steps"]) {
    std::string file = step.value("file", "");
    toured.insert(file);
    nlohmann::json document = ReadJson(kExamples + "/valid/" + file);
    std::string message_id = document.value("message_id", "");
    std::string expect = step.value("expect", "");
    std::string line = message_id + ": " + expect;
    if (expect == "refused") line += " " + step.value("code", "");
    EXPECT_NE(output.find(line + "\n"), std::string::npos) << line << "\n" << output;
    if (expect != "delivered") {
      ++refused;
      continue;
    }
    ++delivered;
    // Delivered means in every recipient's inbox, not only the receipt the tour waited for.
    for (const nlohmann::json& recipient : document["to"]) {
      EXPECT_TRUE(std::filesystem::exists(sandbox.agent(recipient.get<std::string>()).inbox + "/" +
                                          message_id + ".json"))
          << message_id << " at " << recipient;
    }
  }
  EXPECT_EQ(refused, 1u);
  EXPECT_NE(output.find("tour: " + std::to_string(delivered + refused) + " steps, " +
                        std::to_string(delivered) + " delivered, 1 refused as expected"),
            std::string::npos)
      << output;

  // Every valid example that is an outbox document is in the tour; the agents' own documents
  // (delivery_receipt-*, inbox_document-*) cannot be dropped and are not.
  std::set<std::string> droppable;
  for (const auto& entry : std::filesystem::directory_iterator(kExamples + "/valid")) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("delivery_receipt-") && !name.starts_with("inbox_document-")) {
      droppable.insert(name);
    }
  }
  EXPECT_EQ(toured, droppable);

  // Nothing of the children in the logs.
  for (const char* id : {"flen.school", "flen.social", "region.health", "broker"}) {
    EXPECT_EQ(sandbox.LogOf(id).find("-2639"), std::string::npos) << id;
    EXPECT_EQ(sandbox.LogOf(id).find("4620"), std::string::npos) << id;
  }

  // The tour again on the same sandbox: refused before anything is dropped.
  status = RunStafett({"county", "tour", sandbox.county_dir(), "--examples", kExamples}, &output);
  EXPECT_NE(status, 0);
  EXPECT_NE(output.find("had the tour already"), std::string::npos) << output;
}

}  // namespace
}  // namespace stafett::testing
