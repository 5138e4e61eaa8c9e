// Document: the outbox document's checks — size, JSON, fields with their pointers, the
// personnummer, the body per type, consent scope and reference.
#include "document.h"

#include <gtest/gtest.h>

namespace stafett::agent {
namespace {

const core::Micros kNow = *core::ParseRfc3339("2026-11-23T08:00:00Z");

nlohmann::json Report() {
  return {{"message_id", "m-1"},
          {"type", "concern_report"},
          {"to", {"flen.social"}},
          {"subject", {{"personnummer", "19121212-1212"}}},
          {"body", {{"description", "x"}}}};
}

std::optional<OutgoingDocument> Parse(const nlohmann::json& json, DocumentError* error,
                                      size_t max = 1 << 20) {
  return ParseOutgoingDocument(json.dump(), max, kNow, error);
}

TEST(DocumentTest, AcceptsAValidReport) {
  DocumentError error;
  auto document = Parse(Report(), &error);
  ASSERT_TRUE(document) << error.status.ToString();
  EXPECT_EQ(document->message_id, "m-1");
  EXPECT_EQ(document->personnummer.digits12, "191212121212");
  EXPECT_TRUE(document->ref.empty());
}

TEST(DocumentTest, RefusesWithCodesAndPointersWithoutEchoingValues) {
  DocumentError error;
  EXPECT_FALSE(ParseOutgoingDocument("not json", 100, kNow, &error));
  EXPECT_EQ(error.status.code(), core::Code::kSchemaInvalid);
  EXPECT_FALSE(Parse(Report(), &error, 10));
  EXPECT_EQ(error.status.code(), core::Code::kTooLarge);

  nlohmann::json bad = Report();
  bad["message_id"] = "../x";
  bad["body"].erase("description");
  EXPECT_FALSE(Parse(bad, &error));
  EXPECT_EQ(error.status.code(), core::Code::kSchemaInvalid);
  EXPECT_EQ(error.pointers, (std::vector<std::string>{"/body/description", "/message_id"}));

  nlohmann::json luhn = Report();
  luhn["subject"]["personnummer"] = "19121212-1213";
  EXPECT_FALSE(Parse(luhn, &error));
  EXPECT_EQ(error.status.code(), core::Code::kSchemaInvalid);
  EXPECT_EQ(error.pointers, (std::vector<std::string>{"/subject/personnummer"}));
  EXPECT_EQ(error.status.message().find("1213"), std::string::npos);

  nlohmann::json no_consent = Report();
  no_consent["type"] = "support_request";
  no_consent["body"] = {{"reason", "x"}};
  EXPECT_FALSE(Parse(no_consent, &error));
  EXPECT_EQ(error.status.code(), core::Code::kConsentRequired);
}

TEST(DocumentTest, ConsentGrantedCarriesItsScope) {
  nlohmann::json grant = Report();
  grant["type"] = "consent_granted";
  grant["body"] = {{"consent_id", "c-1"},
                   {"parties", {"flen.school", "flen.social"}},
                   {"purposes", {"support"}},
                   {"valid_from", "2026-01-01T00:00:00Z"},
                   {"valid_until", "2027-01-01T00:00:00Z"},
                   {"given_by", {{{"role", "guardian"}}}}};
  DocumentError error;
  auto document = Parse(grant, &error);
  ASSERT_TRUE(document) << error.status.ToString();
  EXPECT_EQ(document->consent_id, "c-1");
  ASSERT_TRUE(document->scope);
  EXPECT_EQ(document->scope->parties.size(), 2u);
  grant["consent_id"] = "c-2";
  EXPECT_FALSE(Parse(grant, &error));
  EXPECT_EQ(error.pointers, (std::vector<std::string>{"/consent_id"}));
}

TEST(DocumentTest, FeedbackReferencesItsReport) {
  nlohmann::json feedback = Report();
  feedback["type"] = "concern_feedback";
  feedback["body"] = {{"report_message_id", "cr-9"}, {"outcome", "not_opened"}};
  DocumentError error;
  auto document = Parse(feedback, &error);
  ASSERT_TRUE(document) << error.status.ToString();
  EXPECT_EQ(document->ref, "cr-9");
}

// Regression (issue 14 item 15): ids travel in clear (broker, audit log, logs); one carrying a
// personnummer was accepted.
TEST(DocumentTest, RefusesIdsThatCarryAPersonnummer) {
  for (const char* id : {"cr-191212121212", "19121212-1212", "x-121212-1212-y", "1212121212"}) {
    nlohmann::json document = Report();
    document["message_id"] = id;
    DocumentError error;
    EXPECT_FALSE(Parse(document, &error)) << id;
    EXPECT_EQ(error.status.code(), core::Code::kSchemaInvalid) << id;
    EXPECT_NE(error.status.message().find("ids must not carry personal data"), std::string::npos);
    EXPECT_EQ(error.status.message().find("1212"), std::string::npos);
    EXPECT_EQ(error.pointers, std::vector<std::string>{"/message_id"}) << id;
  }
  nlohmann::json consent = Report();
  consent["type"] = "support_request";
  consent["body"] = {{"reason", "x"}};
  consent["consent_id"] = "samtycke-191212121212";
  DocumentError error;
  EXPECT_FALSE(Parse(consent, &error));
  EXPECT_EQ(error.pointers, std::vector<std::string>{"/consent_id"});
  // Ids with digits that are no personnummer pass.
  for (const char* id : {"cr-2026-0001", "0190f3a1-7b2c-7d3e-8f40-123456789012",
                         "report-1234567890", "m-20261123"}) {
    EXPECT_FALSE(CarriesPersonnummer(id, kNow)) << id;
  }
}

}  // namespace
}  // namespace stafett::agent
