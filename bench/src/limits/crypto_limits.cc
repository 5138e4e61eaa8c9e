// libsodium costs per message, and the whole envelope as agents and broker do it.
#include <sodium.h>

#include <functional>

#include "bench_stats.h"
#include "limits.h"
#include "stafett/core/crypto.h"
#include "stafett/core/encoding.h"
#include "stafett/core/envelope.h"

namespace stafett::bench {
namespace {

// Microseconds per call of BODY, run for about SECONDS.
double MicrosPerCall(double seconds, const std::function<void()>& body) {
  for (int i = 0; i < 10; ++i) body();  // warm up
  int64_t start = NowNanos(), end = start + static_cast<int64_t>(seconds * 1e9);
  uint64_t calls = 0;
  while (NowNanos() < end) {
    for (int i = 0; i < 16; ++i) body();
    calls += 16;
  }
  return static_cast<double>(NowNanos() - start) / 1e3 / static_cast<double>(calls);
}

}  // namespace

nlohmann::json MeasureCrypto(double seconds) {
  core::EnsureSodiumInitialised();
  core::SigningKeyPair signer = core::SigningKeyPair::Generate();
  core::BoxKeyPair box = core::BoxKeyPair::Generate();
  std::string header(800, 'h');  // about a one-recipient header
  std::string payload(2048, 'p');
  std::string key = core::RandomBytes(32);
  std::string signature = core::Sign(signer, header);
  std::string sealed = core::Seal(box.public_key, key);
  std::string ciphertext = core::AeadEncrypt(key, payload, "ad");
  volatile bool sink = false;

  core::Header envelope_header;
  envelope_header.message_id = "limits-1";
  envelope_header.type = "concern_report";
  envelope_header.from = "flen.school";
  envelope_header.to = {"flen.social"};
  envelope_header.subject = std::string(64, 'a');
  envelope_header.sent_at = 1'800'000'000'000'000;
  envelope_header.expires_at = envelope_header.sent_at + 3'600'000'000;
  envelope_header.sender_key_id = "0123456789abcdef";
  std::vector<core::RecipientKey> recipients = {
      {"flen.social", "fedcba9876543210", box.public_key}};
  core::Result<core::Envelope> envelope =
      core::SealEnvelope(envelope_header, payload, signer, recipients);

  nlohmann::json out = {
      {"ed25519_sign_us",
       MicrosPerCall(seconds, [&] { sink = core::Sign(signer, header).empty(); })},
      {"ed25519_verify_us",
       MicrosPerCall(seconds, [&] { sink = core::Verify(signer.public_key, header, signature); })},
      {"box_seal_us",
       MicrosPerCall(seconds, [&] { sink = core::Seal(box.public_key, key).empty(); })},
      {"box_seal_open_us", MicrosPerCall(seconds, [&] { sink = core::Unseal(box, sealed).ok(); })},
      {"aead_encrypt_2k_us",
       MicrosPerCall(seconds, [&] { sink = core::AeadEncrypt(key, payload, "ad").empty(); })},
      {"aead_decrypt_2k_us",
       MicrosPerCall(seconds, [&] { sink = core::AeadDecrypt(key, ciphertext, "ad").ok(); })},
      {"sha256_2k_us", MicrosPerCall(seconds, [&] { sink = core::Sha256(payload).empty(); })},
  };
  if (envelope.ok()) {
    out["seal_envelope_us"] = MicrosPerCall(seconds, [&] {
      sink = core::SealEnvelope(envelope_header, payload, signer, recipients).ok();
    });
    out["verify_open_envelope_us"] = MicrosPerCall(seconds, [&] {
      core::Result<core::Header> parsed = core::ParseHeader(envelope->header_bytes);
      sink = parsed.ok() && core::VerifyEnvelope(*envelope, *parsed, signer.public_key).ok() &&
             core::OpenEnvelope(*envelope, *parsed, "flen.social", box).ok();
    });
    out["broker_check_us"] = MicrosPerCall(seconds, [&] {
      core::Result<core::Header> parsed = core::ParseHeader(envelope->header_bytes);
      sink = parsed.ok() && core::VerifyEnvelope(*envelope, *parsed, signer.public_key).ok();
    });
  }
  (void)sink;
  return out;
}

}  // namespace stafett::bench
