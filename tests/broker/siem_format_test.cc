// The SIEM feed's RFC 5424 messages (docs/SIEM.md): header fields, the structured data and its
// escaping, octet-counted framing, and that a record's message depends on the record alone.
#include <gtest/gtest.h>

#include "audit_log.h"
#include "broker_config.h"
#include "siem_feed.h"
#include "support/sandbox_files.h"

namespace stafett::broker {
namespace {

SiemHeader Header() { return SiemHeader{.hostname = "broker-1", .procid = "4242"}; }

TEST(SiemFormatTest, EscapesQuoteBackslashAndBracketOnly) {
  EXPECT_EQ(EscapeSdParam(R"(a"b\c]d[e=f)"), R"(a\"b\\c\]d[e=f)");
  EXPECT_EQ(EscapeSdParam(""), "");
  EXPECT_EQ(EscapeSdParam("skola.flen åäö"), "skola.flen åäö") << "UTF-8 passes through";
}

TEST(SiemFormatTest, HeaderFieldsArePrintableAsciiWithinTheirLength) {
  EXPECT_EQ(SanitizeHeaderField("", 48), "-");
  EXPECT_EQ(SanitizeHeaderField("my host\tname", 48), "my_host_name");
  EXPECT_EQ(SanitizeHeaderField(std::string(40, 'x'), 32), std::string(32, 'x'));
}

TEST(SiemFormatTest, AnAuditRecordAsAnRfc5424Message) {
  AuditRecord record{.event = "accepted",
                     .message_id = "m-1",
                     .type = "concern_report",
                     .from = "flen.school",
                     .to = {"flen.social", "flen.health"},
                     .subject = "ps1:abc\"]\\"};
  core::Micros time = *core::ParseRfc3339("2026-11-23T08:15:00.123Z");
  std::string canonical = CanonicalRecord(7, time, record);
  core::Result<std::string> message = FormatSiemMessage(canonical, Header());
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(*message,
            "<86>1 2026-11-23T08:15:00.123Z broker-1 stafett-broker 4242 accepted "
            "[stafett@32473 seq=\"7\" event=\"accepted\" type=\"concern_report\" "
            "from=\"flen.school\" to=\"flen.social,flen.health\" subject=\"ps1:abc\\\"\\]\\\\\" "
            "code=\"\" message_id=\"m-1\" tree_size=\"8\"] " +
                canonical);
  // The same record, the same bytes: a resent message is a duplicate a SIEM can drop by seq.
  EXPECT_EQ(*FormatSiemMessage(canonical, Header()), *message);
}

TEST(SiemFormatTest, RefusalsAreNoticesWithTheirCode) {
  AuditRecord record{.event = "refused", .message_id = "m-2", .from = "a", .code = "NOT_ALLOWED"};
  core::Result<std::string> message =
      FormatSiemMessage(CanonicalRecord(0, 1'000'000, record), Header());
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->rfind("<85>1 1970-01-01T00:00:01.000Z ", 0), 0u) << *message;
  EXPECT_NE(message->find(" code=\"NOT_ALLOWED\" "), std::string::npos) << *message;
  EXPECT_NE(message->find(" tree_size=\"1\"]"), std::string::npos) << *message;
}

TEST(SiemFormatTest, NotARecordIsAnError) {
  EXPECT_FALSE(FormatSiemMessage("not json", Header()).ok());
  EXPECT_FALSE(FormatSiemMessage(R"({"event":"accepted"})", Header()).ok());
  EXPECT_FALSE(FormatSiemMessage(R"({"seq":-1,"event":"accepted"})", Header()).ok());
}

TEST(SiemFormatTest, OctetCountingPrefixesTheLengthInBytes) {
  EXPECT_EQ(FrameOctetCounted("<86>1 - - - - - -"), "17 <86>1 - - - - - -");
  EXPECT_EQ(FrameOctetCounted("å"), "2 å");
}

TEST(SiemFeedCursorTest, ResumesFromTheCursorFileAndRefusesOneThatDoesNotParse) {
  testing::TempDir dir;
  SiemFeed::Options options{.address = "127.0.0.1:9", .cursor_file = dir.path() + "/siem.cursor"};
  auto no_records = [](uint64_t) -> core::Result<std::optional<std::string>> {
    return std::optional<std::string>();
  };
  core::Result<std::unique_ptr<SiemFeed>> fresh = SiemFeed::Start(
      options, no_records, core::SystemClock::Instance(), core::SystemRandom::Instance(), nullptr);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ((*fresh)->cursor(), 0u) << "no file: from the first record";
  (*fresh)->Stop();

  ASSERT_TRUE(testing::WriteFileByRename(options.cursor_file, "41\n"));
  core::Result<std::unique_ptr<SiemFeed>> resumed = SiemFeed::Start(
      options, no_records, core::SystemClock::Instance(), core::SystemRandom::Instance(), nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ((*resumed)->cursor(), 41u);
  resumed->reset();

  for (const char* bad : {"", "41", "x\n", "-1\n", "41 \n"}) {
    ASSERT_TRUE(testing::WriteFileByRename(options.cursor_file, bad));
    core::Result<std::unique_ptr<SiemFeed>> refused =
        SiemFeed::Start(options, no_records, core::SystemClock::Instance(),
                        core::SystemRandom::Instance(), nullptr);
    EXPECT_FALSE(refused.ok()) << "cursor file \"" << bad << "\"";
  }
}

constexpr char kBroker[] = "[broker]\ntrust_directory = \"directory.json\"\n";

TEST(RetentionConfigTest, TheGraceIsInDaysOrInSecondsForBenchmarks) {
  testing::TempDir dir;
  std::string file = dir.path() + "/broker.toml";
  ASSERT_TRUE(testing::WriteFileByRename(file, kBroker));
  core::Result<BrokerConfig> config = LoadBrokerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->retention_grace_seconds, 30 * 86400) << "the default: 30 days";
  ASSERT_TRUE(testing::WriteFileByRename(
      file, std::string(kBroker) + "[retention]\nmessage_grace_days = 2\n"));
  config = LoadBrokerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->retention_grace_seconds, 2 * 86400);
  ASSERT_TRUE(testing::WriteFileByRename(
      file,
      std::string(kBroker) + "[retention]\nmessage_grace_days = 2\nmessage_grace_seconds = 5\n"));
  config = LoadBrokerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->retention_grace_seconds, 5) << "seconds take precedence";
  ASSERT_TRUE(testing::WriteFileByRename(
      file, std::string(kBroker) + "[retention]\nmessage_grace_seconds = -1\n"));
  EXPECT_FALSE(LoadBrokerConfig(file).ok()) << "out of range";
}

TEST(SiemConfigTest, TheSiemTableIsReadAndChecked) {
  testing::TempDir dir;
  std::string file = dir.path() + "/broker.toml";
  ASSERT_TRUE(testing::WriteFileByRename(
      file, std::string(kBroker) +
                "[siem]\naddress = \"127.0.0.1:6514\"\napp_name = \"stafett-test\"\n"));
  core::Result<BrokerConfig> config = LoadBrokerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->siem_address, "127.0.0.1:6514");
  EXPECT_EQ(config->siem_app_name, "stafett-test");
  EXPECT_EQ(SiemOptionsFor(*config).cursor_file, config->data_dir / "siem.cursor");

  ASSERT_TRUE(
      testing::WriteFileByRename(file, std::string(kBroker) + "[siem]\naddress = \"localhost\"\n"));
  EXPECT_FALSE(LoadBrokerConfig(file).ok()) << "host:port";
  ASSERT_TRUE(testing::WriteFileByRename(
      file, std::string(kBroker) + "[siem]\nadress = \"127.0.0.1:1\"\n"));
  EXPECT_FALSE(LoadBrokerConfig(file).ok()) << "an unknown key";
  ASSERT_TRUE(testing::WriteFileByRename(
      file, std::string(kBroker) + "[siem]\naddress = \"h:1\"\ntls = true\n"));
  EXPECT_FALSE(LoadBrokerConfig(file).ok()) << "TLS needs ca_file";
  ASSERT_TRUE(testing::WriteFileByRename(
      file,
      std::string(kBroker) + "[siem]\naddress = \"h:1\"\ntls = true\nca_file = \"ca.pem\"\n"));
  config = LoadBrokerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(SiemOptionsFor(*config).tls);
  EXPECT_EQ(SiemOptionsFor(*config).ca_file, std::filesystem::path(dir.path()) / "ca.pem");
  ASSERT_TRUE(testing::WriteFileByRename(file, kBroker));
  ASSERT_TRUE(LoadBrokerConfig(file).ok());
  EXPECT_EQ(LoadBrokerConfig(file)->siem_address, "") << "off unless configured";
}

}  // namespace
}  // namespace stafett::broker
