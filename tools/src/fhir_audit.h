// The audit log as HL7 FHIR R4: each audit record becomes one or two AuditEvent resources
// following IHE's Basic Audit Log Patterns (BALP), in a Bundle of type `collection` that keeps
// the log verifiable — every AuditEvent carries its record's leaf and RFC 6962 inclusion proof
// in an extension, and the Bundle's signature is the broker's signed tree head. The mapping
// table is docs/FHIR.md. The child is named by the pseudonym only, never a personnummer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::tools {

// The extension that carries a record's place in the log (docs/FHIR.md, "Staying verifiable").
inline constexpr char kFhirInclusionExtension[] =
    "urn:stafett:fhir:StructureDefinition:merkle-inclusion";

struct FhirLogPosition {
  uint64_t seq = 0;
  std::string leaf;                // the record's canonical JSON, the Merkle leaf input
  std::vector<std::string> proof;  // the inclusion proof: hex hashes, leaf to root
  uint64_t tree_size = 0;
  std::string root_hex;
};

// The AuditEvent resources of one audit record (parsed from POSITION.leaf): one per record,
// and for an `accepted` that relied on a consent a second one for the consent decision.
// SCHEMA_INVALID for a record without the fields its event needs.
core::Result<std::vector<nlohmann::json>> FhirAuditEvents(const FhirLogPosition& position);

// A Bundle (type collection) of EVENTS under the signed head HEAD_JSON (as the broker's `head`
// query returns it) whose timestamp is HEAD_TIME (RFC 3339).
nlohmann::json FhirAuditBundle(std::vector<nlohmann::json> events, const nlohmann::json& head_json,
                               const std::string& head_time, uint64_t tree_size,
                               const std::string& root_hex);

// Checks one AuditEvent's inclusion extension against ROOT_HEX at TREE_SIZE: the leaf hashes
// into the root by the proof. What an auditor does with a bundle, without trusting its source.
core::Status VerifyFhirAuditEvent(const nlohmann::json& event, uint64_t tree_size,
                                  const std::string& root_hex);

}  // namespace stafett::tools
