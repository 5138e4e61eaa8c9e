// The agents' documents as HL7 FHIR R4, both ways (docs/FHIR.md, "The agents' documents"):
// referrals as ServiceRequest, statuses, feedback and receipts as Task, consent events as
// Consent, reports and answers as Communication; an inbox document as a Bundle of type
// `message` (a MessageHeader with the envelope's facts, then the resource). Every body field
// without a FHIR element travels in one extension (kFhirBodyExtension), so a document mapped to
// FHIR and back is the same document. Errors name FHIR element paths and JSON pointers, never a
// value (a personnummer, a name, free text). Thread-safety: pure functions over values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stafett/core/status.h"

namespace stafett::core {

inline constexpr char kFhirPersonnummerSystem[] =
    "http://electronichealth.se/identifier/personnummer";
inline constexpr char kFhirSamordningsnummerSystem[] =
    "http://electronichealth.se/identifier/samordningsnummer";
inline constexpr char kFhirEndpointSystem[] = "urn:stafett:endpoint";
inline constexpr char kFhirMessageIdSystem[] = "urn:stafett:message-id";
inline constexpr char kFhirConsentIdSystem[] = "urn:stafett:consent-id";
inline constexpr char kFhirMessageTypeSystem[] = "urn:stafett:message-type";
// The body fields that have no FHIR element, one sub-extension per field (named after it).
inline constexpr char kFhirBodyExtension[] = "urn:stafett:fhir:StructureDefinition:body";
// ttl_seconds and schema_version of an outbox document.
inline constexpr char kFhirDocumentExtension[] = "urn:stafett:fhir:StructureDefinition:document";
// The consent a non-consent resource relies on (Task, Communication).
inline constexpr char kFhirConsentExtension[] = "urn:stafett:fhir:StructureDefinition:consent";
// A Consent's recipients (Consent has no element for them).
inline constexpr char kFhirRecipientExtension[] = "urn:stafett:fhir:StructureDefinition:recipient";
// The envelope's facts on an inbox bundle's MessageHeader (signed header, signature, …).
inline constexpr char kFhirEnvelopeExtension[] = "urn:stafett:fhir:StructureDefinition:envelope";
// A delivery receipt's seq, key and signature.
inline constexpr char kFhirReceiptExtension[] = "urn:stafett:fhir:StructureDefinition:receipt";

// The resource type documents of TYPE map to: ServiceRequest, Task, Consent or Communication;
// "" for a type Stafett does not have.
std::string_view FhirResourceTypeFor(std::string_view type);

// DOCUMENT — an outbox document (CONTRACT.md), an inbox document as the agent writes it, or a
// delivery_receipt — as one FHIR R4 resource. An inbox document's `from` and `sent_at` map to
// the resource's sender and time; its envelope facts (received_at, expires_at, the pseudonym,
// the signed header) are the bundle's (FhirInboxBundle). Checks the shape only (SCHEMA_INVALID
// naming the pointer): ParseDocument judges the content.
Result<nlohmann::json> FhirFromDocument(const nlohmann::json& document);

// An inbox document (or a delivery_receipt) as a Bundle of type `message`: a MessageHeader
// (event: the type; source and sender: the sending endpoint; destinations: the recipients;
// the envelope's facts in kFhirEnvelopeExtension) then the mapped resource. fullUrls are
// urn:uuid's derived from the message id, so the same document always gives the same bundle.
Result<nlohmann::json> FhirInboxBundle(const nlohmann::json& document);

struct FhirMappedDocument {
  // The outbox document (or, for a delivery-receipt Task, the receipt document).
  nlohmann::json document;
  std::string from;                  // requester / sender / organization, if the resource had one
  std::string sent_at;               // authoredOn / sent / dateTime, if the resource had one
  std::vector<std::string> parties;  // a Consent's provision actors (who to tell of a revocation)
};

// A FHIR ServiceRequest, Task, Consent or Communication as a Stafett document: the inverse of
// FhirFromDocument. Refuses (SCHEMA_INVALID) what it cannot carry without loss or review — an
// element the mapping does not define, an identifier system other than Stafett's, a child not
// identified by personnummer or samordningsnummer, a value set code it does not know — naming
// each failing element in POINTERS (may be null) as a JSON pointer.
Result<FhirMappedDocument> DocumentFromFhir(const nlohmann::json& resource,
                                            std::vector<std::string>* pointers);

// A JSON pointer into a resource of RESOURCE_TYPE as a FHIRPath: "/performer/0/identifier" →
// "ServiceRequest.performer[0].identifier".
std::string FhirPathOf(const std::string& pointer, const std::string& resource_type);

// A FHIR OperationOutcome for a refusal: one issue, the Stafett code as its details' coding
// (system urn:stafett:error-code), the message as its text, the pointers (into a resource of
// RESOURCE_TYPE) as its expression.
nlohmann::json FhirOperationOutcome(const Status& status, const std::vector<std::string>& pointers,
                                    const std::string& resource_type = "");

}  // namespace stafett::core
