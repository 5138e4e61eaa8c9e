// Tests for the end-to-end envelope: round trips, recipients, tampering, canonical-form and
// field checks. Thread-safety: n/a (test).
#include "stafett/core/envelope.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "stafett/core/encoding.h"

namespace stafett::core {
namespace {

struct Party {
  std::string id;
  BoxKeyPair box = BoxKeyPair::Generate();
  SigningKeyPair signing = SigningKeyPair::Generate();
  std::string KeyId() const { return KeyIdOf("", box.public_key, signing.public_key); }
  RecipientKey Recipient() const { return {id, KeyId(), box.public_key}; }
};

class EnvelopeTest : public ::testing::Test {
 protected:
  Header MakeHeader(const std::vector<const Party*>& to) const {
    Header header;
    header.message_id = "0190c7a2-5d1e-7abc-8def-0123456789ab";
    header.type = "support_request";
    header.from = sender_.id;
    for (const Party* party : to) header.to.push_back(party->id);
    header.subject = std::string(64, 'c');
    header.consent_id = "consent-1";
    header.sent_at = *ParseRfc3339("2026-03-01T10:00:00.123456Z");  // sub-ms: truncated
    header.expires_at = header.sent_at + 7LL * 24 * 3600 * 1000000;
    header.sender_key_id = sender_.KeyId();
    return header;
  }

  Envelope SealTo(const std::vector<const Party*>& to, std::string_view plaintext = "body") {
    std::vector<RecipientKey> keys;
    keys.reserve(to.size());
    for (const Party* party : to) keys.push_back(party->Recipient());
    Result<Envelope> envelope = SealEnvelope(MakeHeader(to), plaintext, sender_.signing, keys);
    EXPECT_TRUE(envelope.ok()) << envelope.status().ToString();
    return envelope.ok() ? *envelope : Envelope{};
  }

  Party sender_{"flen.school"};
  Party social_{"flen.social"};
  Party health_{"region.health"};
  Party bup_{"region.bup"};
};

TEST_F(EnvelopeTest, RoundTripsToOneRecipient) {
  const Envelope envelope = SealTo({&social_}, "a referral");
  Result<Header> header = ParseHeader(envelope.header_bytes);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->sent_at, *ParseRfc3339("2026-03-01T10:00:00.123Z"));
  EXPECT_EQ(header->payload_size, envelope.payload.size());
  EXPECT_EQ(header->keys.size(), 1u);
  EXPECT_EQ(header->keys[0].key_id, social_.KeyId());
  EXPECT_TRUE(VerifyEnvelope(envelope, *header, sender_.signing.public_key).ok());
  Result<std::string> plaintext = OpenEnvelope(envelope, *header, social_.id, social_.box);
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_EQ(*plaintext, "a referral");
  EXPECT_EQ(SerializeHeader(*header), envelope.header_bytes);
}

TEST_F(EnvelopeTest, RoundTripsToThreeRecipients) {
  const Envelope envelope = SealTo({&social_, &health_, &bup_}, std::string(100000, 'x'));
  Result<Header> header = ParseHeader(envelope.header_bytes);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  ASSERT_TRUE(VerifyEnvelope(envelope, *header, sender_.signing.public_key).ok());
  for (const Party* party : {&social_, &health_, &bup_}) {
    Result<std::string> plaintext = OpenEnvelope(envelope, *header, party->id, party->box);
    ASSERT_TRUE(plaintext.ok()) << party->id;
    EXPECT_EQ(*plaintext, std::string(100000, 'x'));
    ASSERT_NE(FindWrappedKey(*header, party->id), nullptr);
  }
  // A recipient's key does not open another recipient's wrapped key.
  EXPECT_FALSE(OpenEnvelope(envelope, *header, health_.id, social_.box).ok());
}

TEST_F(EnvelopeTest, OutsidersCannotDecrypt) {
  const Envelope envelope = SealTo({&social_});
  const Header header = *ParseHeader(envelope.header_bytes);
  Result<std::string> as_outsider = OpenEnvelope(envelope, header, health_.id, health_.box);
  EXPECT_EQ(as_outsider.status().code(), Code::kDecryptFailed);
  Result<std::string> wrong_key = OpenEnvelope(envelope, header, social_.id, health_.box);
  EXPECT_EQ(wrong_key.status().code(), Code::kDecryptFailed);
  EXPECT_EQ(FindWrappedKey(header, health_.id), nullptr);
}

TEST_F(EnvelopeTest, RejectsAFlippedBitInTheHeader) {
  const Envelope envelope = SealTo({&social_});
  const Header header = *ParseHeader(envelope.header_bytes);
  Envelope tampered = envelope;
  // Flip a bit inside the subject's hex: still parseable, but no longer what was signed.
  const size_t at = tampered.header_bytes.find(std::string(64, 'c'));
  ASSERT_NE(at, std::string::npos);
  tampered.header_bytes[at] = 'b';  // 'c' ^ 0x01
  Result<Header> reparsed = ParseHeader(tampered.header_bytes);
  ASSERT_TRUE(reparsed.ok());
  Status status = VerifyEnvelope(tampered, *reparsed, sender_.signing.public_key);
  EXPECT_EQ(status.code(), Code::kBadSignature);
  // The parsed header must match the bytes that were verified.
  EXPECT_EQ(VerifyEnvelope(envelope, *reparsed, sender_.signing.public_key).code(),
            Code::kBadSignature);
  EXPECT_TRUE(VerifyEnvelope(envelope, header, sender_.signing.public_key).ok());
}

TEST_F(EnvelopeTest, RejectsAFlippedBitInTheSignature) {
  Envelope envelope = SealTo({&social_});
  const Header header = *ParseHeader(envelope.header_bytes);
  envelope.signature[5] = static_cast<char>(envelope.signature[5] ^ 0x20);
  EXPECT_EQ(VerifyEnvelope(envelope, header, sender_.signing.public_key).code(),
            Code::kBadSignature);
  envelope.signature.pop_back();
  EXPECT_EQ(VerifyEnvelope(envelope, header, sender_.signing.public_key).code(),
            Code::kBadSignature);
}

TEST_F(EnvelopeTest, RejectsAFlippedBitInTheCiphertext) {
  Envelope envelope = SealTo({&social_});
  const Header header = *ParseHeader(envelope.header_bytes);
  envelope.payload[kAeadNonceBytes + 2] ^= 0x01;
  Status status = VerifyEnvelope(envelope, header, sender_.signing.public_key);
  EXPECT_EQ(status.code(), Code::kBadSignature);
  EXPECT_NE(status.message().find("digest"), std::string::npos);
  EXPECT_EQ(OpenEnvelope(envelope, header, social_.id, social_.box).status().code(),
            Code::kDecryptFailed);
  envelope.payload.push_back('x');
  EXPECT_NE(VerifyEnvelope(envelope, header, sender_.signing.public_key).message().find("size"),
            std::string::npos);
}

TEST_F(EnvelopeTest, RejectsTheWrongSenderKey) {
  const Envelope envelope = SealTo({&social_});
  const Header header = *ParseHeader(envelope.header_bytes);
  EXPECT_EQ(VerifyEnvelope(envelope, header, social_.signing.public_key).code(),
            Code::kBadSignature);
  EXPECT_EQ(VerifyEnvelope(envelope, header, "").code(), Code::kBadSignature);
}

TEST_F(EnvelopeTest, BindsThePayloadToMessageIdAndSender) {
  const Envelope first = SealTo({&social_});
  Header other = MakeHeader({&social_});
  other.message_id = "another-id";
  Result<Envelope> second = SealEnvelope(other, "other", sender_.signing, {social_.Recipient()});
  ASSERT_TRUE(second.ok());
  // Graft the first payload and wrapped key into the second header: AEAD's ad differs.
  Header grafted = *ParseHeader(second->header_bytes);
  grafted.keys = ParseHeader(first.header_bytes)->keys;
  EXPECT_FALSE(OpenEnvelope(first, grafted, social_.id, social_.box).ok());
}

TEST_F(EnvelopeTest, ReceiptSigningInputIsSpecified) {
  const std::string digest(32, '\xab');
  std::string digest_hex;
  for (int i = 0; i < 32; ++i) digest_hex += "ab";
  EXPECT_EQ(ReceiptSigningInput("m1", digest, "flen.social"),
            "stafett-receipt-v1\nm1\n" + digest_hex + "\nflen.social");
  EXPECT_EQ(HeaderSigningInput("{}"), "stafett-header-v1\n{}");
  EXPECT_EQ(PayloadAssociatedData("m1", "flen.school"), "stafett-payload-v1\nm1\nflen.school");
}

// --- SealEnvelope input checks ---

TEST_F(EnvelopeTest, SealRefusesMissingExtraOrDuplicateRecipientKeys) {
  const Header header = MakeHeader({&social_, &health_});
  EXPECT_EQ(SealEnvelope(header, "x", sender_.signing, {social_.Recipient()}).status().code(),
            Code::kUnknownRecipient);
  EXPECT_EQ(SealEnvelope(header, "x", sender_.signing,
                         {social_.Recipient(), health_.Recipient(), bup_.Recipient()})
                .status()
                .code(),
            Code::kSchemaInvalid);
  EXPECT_EQ(SealEnvelope(header, "x", sender_.signing,
                         {social_.Recipient(), health_.Recipient(), social_.Recipient()})
                .status()
                .code(),
            Code::kSchemaInvalid);
  // Any order of recipient keys is fine; the wrapped keys follow `to`.
  Result<Envelope> reordered =
      SealEnvelope(header, "x", sender_.signing, {health_.Recipient(), social_.Recipient()});
  ASSERT_TRUE(reordered.ok());
  EXPECT_EQ(ParseHeader(reordered->header_bytes)->keys[0].recipient, social_.id);
}

TEST_F(EnvelopeTest, SealValidatesTheHeader) {
  Header header = MakeHeader({&social_});
  header.from = "Not An Endpoint";
  EXPECT_EQ(SealEnvelope(header, "x", sender_.signing, {social_.Recipient()}).status().code(),
            Code::kSchemaInvalid);
  header = MakeHeader({&social_});
  header.sender_key_id.clear();
  EXPECT_FALSE(SealEnvelope(header, "x", sender_.signing, {social_.Recipient()}).ok());
  header = MakeHeader({&social_});
  header.type = "consent_granted";  // needs a consent scope
  EXPECT_FALSE(SealEnvelope(header, "x", sender_.signing, {social_.Recipient()}).ok());
  header.consent = ConsentScope{{"flen.school", "flen.social"},
                                {"support"},
                                *ParseRfc3339("2026-03-01T00:00:00Z"),
                                *ParseRfc3339("2027-03-01T00:00:00Z")};
  Result<Envelope> with_scope = SealEnvelope(header, "x", sender_.signing, {social_.Recipient()});
  ASSERT_TRUE(with_scope.ok()) << with_scope.status().ToString();
  Result<Header> parsed = ParseHeader(with_scope->header_bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->consent, header.consent);
}

// --- ParseHeader strictness ---

class ParseHeaderTest : public EnvelopeTest {
 protected:
  void SetUp() override { bytes_ = SealTo({&social_, &health_}).header_bytes; }

  // The sealed header, changed through nlohmann::json and re-dumped (so still sorted, compact).
  std::string Mutated(const std::function<void(nlohmann::json&)>& change) const {
    nlohmann::json json = nlohmann::json::parse(bytes_);
    change(json);
    return json.dump();
  }

  Code ParseCode(std::string_view bytes) const { return ParseHeader(bytes).status().code(); }

  std::string bytes_;
};

TEST_F(ParseHeaderTest, AcceptsTheSealedBytes) {
  EXPECT_EQ(ParseCode(bytes_), Code::kOk);
  EXPECT_EQ(Mutated([](nlohmann::json&) {}), bytes_);
}

TEST_F(ParseHeaderTest, RejectsNonCanonicalBytes) {
  EXPECT_EQ(ParseCode(" " + bytes_), Code::kProtocolError);
  EXPECT_EQ(ParseCode(bytes_ + "\n"), Code::kProtocolError);
  std::string spaced = bytes_;
  spaced.insert(spaced.find(':') + 1, " ");
  EXPECT_EQ(ParseCode(spaced), Code::kProtocolError);
  // Unsorted keys: the same members in reverse order.
  const nlohmann::ordered_json sorted = nlohmann::ordered_json::parse(bytes_);
  std::vector<std::pair<std::string, nlohmann::ordered_json>> members;
  for (const auto& [key, value] : sorted.items()) members.emplace_back(key, value);
  nlohmann::ordered_json unsorted = nlohmann::ordered_json::object();
  for (auto it = members.rbegin(); it != members.rend(); ++it) unsorted[it->first] = it->second;
  EXPECT_EQ(ParseCode(unsorted.dump()), Code::kProtocolError);
  // A duplicated member, an escaped character, an empty optional member, sub-ms time.
  EXPECT_EQ(ParseCode("{\"v\":1," + bytes_.substr(1)), Code::kProtocolError);
  std::string escaped = bytes_;
  escaped.replace(escaped.find("support_request"), 1, "\\u0073");
  EXPECT_EQ(ParseCode(escaped), Code::kProtocolError);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["ref"] = ""; })), Code::kProtocolError);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["sent_at"] = "2026-03-01T10:00:00.123456Z"; })),
            Code::kProtocolError);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["sent_at"] = "2026-03-01T11:00:00+01:00"; })),
            Code::kProtocolError);
}

TEST_F(ParseHeaderTest, RejectsWrongVersionsAndNonJson) {
  EXPECT_EQ(ParseCode("not json"), Code::kProtocolError);
  EXPECT_EQ(ParseCode("[]"), Code::kProtocolError);
  EXPECT_EQ(ParseCode(""), Code::kProtocolError);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["v"] = 2; })), Code::kProtocolError);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["v"] = 1.0; })), Code::kProtocolError);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json.erase("v"); })), Code::kProtocolError);
}

TEST_F(ParseHeaderTest, RejectsOversizedHeaders) {
  EXPECT_EQ(ParseCode(std::string(kMaxHeaderBytes + 1, ' ')), Code::kTooLarge);
}

TEST_F(ParseHeaderTest, RejectsUnknownAndMissingMembers) {
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["extra"] = 1; })), Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["payload"]["extra"] = 1; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["keys"][0]["extra"] = 1; })),
            Code::kSchemaInvalid);
  for (const char* name : {"message_id", "type", "from", "to", "subject", "sent_at", "expires_at",
                           "payload", "sender_key", "keys"}) {
    EXPECT_EQ(ParseCode(Mutated([&](auto& json) { json.erase(name); })), Code::kSchemaInvalid)
        << name;
  }
}

TEST_F(ParseHeaderTest, RejectsWrongTypes) {
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["to"] = "flen.social"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["to"][0] = 7; })), Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["payload"]["size"] = "40"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["payload"]["size"] = -1; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["payload"]["digest"] = "not base64!"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["sent_at"] = "yesterday"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["consent"] = "x"; })), Code::kSchemaInvalid);
}

TEST_F(ParseHeaderTest, RejectsBadIdsAndRecipientLists) {
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["message_id"] = "bad id!"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["from"] = "Flen.School"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["consent_id"] = "-x"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["subject"] = "19121212-1212"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["type"] = "Support"; })), Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["sender_key"] = "ABC"; })),
            Code::kSchemaInvalid);
  // A duplicate recipient (with a matching key entry).
  EXPECT_EQ(ParseCode(Mutated([](auto& json) {
              json["to"][1] = json["to"][0];
              json["keys"][1]["to"] = json["to"][0];
            })),
            Code::kSchemaInvalid);
  // A key for someone not listed; a recipient without a key; keys out of order.
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["keys"][1]["to"] = "region.bup"; })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["keys"].erase(1); })), Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { std::swap(json["keys"][0], json["keys"][1]); })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) { json["to"] = nlohmann::json::array(); })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([](auto& json) {
              nlohmann::json to = nlohmann::json::array();
              nlohmann::json keys = nlohmann::json::array();
              for (int i = 0; i < 65; ++i) {
                to.push_back("org.unit" + std::to_string(i));
                keys.push_back(json["keys"][0]);
                keys.back()["to"] = to.back();
              }
              json["to"] = to;
              json["keys"] = keys;
            })),
            Code::kSchemaInvalid);
}

TEST_F(ParseHeaderTest, ChecksTheConsentScope) {
  // A scope on a type other than consent_granted.
  EXPECT_EQ(ParseCode(Mutated([](auto& json) {
              json["consent"] = {{"parties", {"flen.school"}},
                                 {"purposes", {"support"}},
                                 {"valid_from", "2026-01-01T00:00:00.000Z"},
                                 {"valid_until", "2027-01-01T00:00:00.000Z"}};
            })),
            Code::kSchemaInvalid);
  const auto granted = [](nlohmann::json& json) {
    json["type"] = "consent_granted";
    json["consent"] = {{"parties", {"flen.school", "flen.social"}},
                       {"purposes", {"support", "sip"}},
                       {"valid_from", "2026-01-01T00:00:00.000Z"},
                       {"valid_until", "2027-01-01T00:00:00.000Z"}};
  };
  EXPECT_EQ(ParseCode(Mutated(granted)), Code::kOk);
  EXPECT_EQ(ParseCode(Mutated([&](auto& json) {
              granted(json);
              json["consent"]["parties"][1] = "flen.school";
            })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([&](auto& json) {
              granted(json);
              json["consent"]["valid_until"] = "2025-01-01T00:00:00.000Z";
            })),
            Code::kSchemaInvalid);
  EXPECT_EQ(ParseCode(Mutated([&](auto& json) {
              granted(json);
              json["consent"]["purposes"] = nlohmann::json::array();
            })),
            Code::kSchemaInvalid);
}

}  // namespace
}  // namespace stafett::core
