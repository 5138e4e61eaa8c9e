// The console's layout and texts.
#include "console/html.h"

#include <map>
#include <utility>

#include "console/assets.h"

namespace stafett::tools::console {
namespace {

using Texts = std::map<std::string_view, std::pair<std::string_view, std::string_view>>;

// key → {Swedish, English}
const Texts& AllTexts() {
  static const Texts texts = {
      {"skip", {"Hoppa till innehållet", "Skip to content"}},
      {"role.operator", {"drift", "operations"}},
      {"role.auditor", {"granskning", "audit"}},
      {"nav.label", {"Huvudmeny", "Main menu"}},
      {"nav.endpoints", {"Anslutna verksamheter", "Endpoints"}},
      {"nav.message", {"Meddelande", "Message"}},
      {"nav.queues", {"Köer och stopp", "Queues"}},
      {"nav.health", {"Driftläge", "Health"}},
      {"nav.runbooks", {"Larmrutiner", "Alert runbooks"}},
      {"nav.trail", {"Granskningslogg", "Audit trail"}},
      {"nav.verify", {"Verifiera loggen", "Verify the log"}},
      {"nav.extract", {"Registerutdrag", "Register extract"}},
      {"lang.switch", {"English", "Svenska"}},
      {"logout", {"Logga ut", "Sign out"}},
      {"footer",
       {"Stafett-konsolen visar vad mäklaren svarar just nu; den sparar inga uppgifter själv.",
        "The Stafett console shows what the broker answers now; it keeps no data of its own."}},
      {"login.title", {"Logga in med inloggningslänken", "Sign in with the login link"}},
      {"login.text",
       {"Den här sidan kräver inloggning. Öppna länken som skrevs ut när konsolen startades "
        "(console listening on …/login?token=…). Länken fungerar en gång; starta konsolen igen "
        "för en ny.",
        "This page needs a session. Open the link printed when the console started (console "
        "listening on …/login?token=…). The link works once; start the console again for a new "
        "one."}},
      {"login.refused.title", {"Inloggningen nekades", "Sign-in refused"}},
      {"login.refused.text",
       {"Inloggningslänken är fel eller redan använd. Starta konsolen igen för en ny länk.",
        "The login link is wrong or already used. Start the console again for a new link."}},
      {"csrf.title", {"Begäran nekades", "Request refused"}},
      {"csrf.text",
       {"Formuläret saknade en giltig säkerhetskod. Ladda om sidan och försök igen.",
        "The form did not carry a valid security token. Reload the page and try again."}},
      {"notfound.title", {"Sidan finns inte", "Page not found"}},
      {"signedout.title", {"Utloggad", "Signed out"}},
      {"signedout.text",
       {"Du är utloggad. Starta konsolen igen för en ny inloggningslänk.",
        "You are signed out. Start the console again for a new login link."}},
      {"error.broker",
       {"Mäklaren svarade inte som väntat", "The broker did not answer as expected"}},
      // Endpoints
      {"endpoints.title", {"Anslutna verksamheter", "Endpoints"}},
      {"endpoints.caption",
       {"Varje verksamhet i förtroendekatalogen", "Every endpoint in the trust directory"}},
      {"endpoints.refresh",
       {"Tabellen uppdateras var femte sekund när JavaScript är påslaget; ladda annars om sidan.",
        "The table refreshes every five seconds with JavaScript on; otherwise reload the page."}},
      {"endpoints.updated", {"Senast uppdaterad", "Last updated"}},
      {"col.endpoint", {"Verksamhet", "Endpoint"}},
      {"col.kind", {"Typ", "Kind"}},
      {"col.connected", {"Ansluten", "Connected"}},
      {"col.last_seen", {"Senast sedd", "Last seen"}},
      {"col.queue", {"I kö", "Queued"}},
      {"col.oldest", {"Äldsta olevererade", "Oldest undelivered"}},
      {"col.warnings", {"Varningar", "Warnings"}},
      {"yes", {"ja", "yes"}},
      {"no", {"nej", "no"}},
      {"never", {"aldrig", "never"}},
      {"warning.offline_backlog",
       {"frånkopplad med meddelanden som väntat ", "offline with messages waiting "}},
      {"warning.session_replaced",
       {"sessionen övertagen av en annan anslutning med samma nyckel ",
        "session taken over by another connection with its key "}},
      {"warning.session_replaced_times", {" gånger, senast för ", " times, last "}},
      {"warning.session_replaced_ago", {" sedan", " ago"}},
      {"audit.size", {"Granskningsloggen har", "The audit log holds"}},
      {"audit.records", {"poster", "records"}},
      {"storage.full",
       {"LAGRINGEN ÄR FULL: mäklaren tar inte emot nya meddelanden",
        "STORAGE FULL: the broker refuses new work"}},
      // Message
      {"message.title", {"Ett meddelandes väg", "A message's timeline"}},
      {"message.id", {"Meddelande-id", "Message id"}},
      {"message.id.hint",
       {"Id:t innehåller inga personuppgifter.", "The id carries no personal data."}},
      {"message.show", {"Visa", "Show"}},
      {"message.bad_id",
       {"Ett meddelande-id är 1–64 tecken av A–Z, a–z, 0–9, punkt, understreck och bindestreck.",
        "A message id is 1–64 characters of A–Z, a–z, 0–9, dot, underscore and hyphen."}},
      {"message.not_found", {"Inget meddelande med det id:t.", "No message with that id."}},
      {"message.status", {"Status", "Status"}},
      {"message.type", {"Typ", "Type"}},
      {"message.from", {"Från", "From"}},
      {"message.to", {"Till", "To"}},
      {"message.accepted_at", {"Mottaget", "Accepted"}},
      {"message.expires_at", {"Går ut", "Expires"}},
      {"message.recipients", {"Mottagare", "Recipients"}},
      {"message.events", {"Händelser", "Events"}},
      {"col.time", {"Tid", "Time"}},
      {"col.event", {"Händelse", "Event"}},
      {"col.code", {"Kod", "Code"}},
      {"col.state", {"Läge", "State"}},
      // Queues
      {"queues.title", {"Köer och det som har fastnat", "Queues and what is stuck"}},
      {"queues.intro",
       {"Det som väntar på leverans per mottagare, äldst först, och de försändelser som "
        "avslutades utan leverans, senast först, med sina koder. Bara metadata: id, "
        "verksamheter, typer, tider och koder. Klicka på ett meddelande-id för dess väg.",
        "What waits for delivery per recipient, oldest first, and the messages that ended "
        "without delivery, newest first, with their codes. Metadata only: ids, endpoints, types, "
        "times and codes. Follow a message id for its timeline."}},
      {"queues.waiting", {"Väntar på leverans", "Waiting for delivery"}},
      {"queues.in_queue", {"i kö", "queued"}},
      {"queues.connected", {"mottagaren är ansluten", "the recipient is connected"}},
      {"queues.offline", {"mottagaren är INTE ansluten", "the recipient is NOT connected"}},
      {"queues.in_flight", {"skickat, inget svar än, sedan", "sent, not answered yet, since"}},
      {"queues.queued", {"i kö", "queued"}},
      {"queues.queued_offline",
       {"i kö: mottagaren är inte ansluten", "queued: the recipient is not connected"}},
      {"queues.truncated", {"Fler finns än som visas.", "There are more than shown."}},
      {"queues.none_waiting", {"Inget väntar på leverans.", "Nothing waits for delivery."}},
      {"queues.ended", {"Avslutade utan leverans", "Ended without delivery"}},
      {"queues.ended.caption",
       {"Förfallna, stoppade och nekade försändelser, senast först",
        "Expired, withheld and refused messages, newest first"}},
      {"queues.none_ended",
       {"Ingen försändelse har avslutats utan leverans.",
        "No message has ended without delivery."}},
      {"queues.scanned",
       {"Sökt bland granskningsloggens senaste poster, från position",
        "Searched among the audit log's newest records, from position"}},
      {"col.queued_at", {"I kö sedan", "Queued at"}},
      {"col.waited", {"Väntat", "Waited"}},
      {"col.expires", {"Går ut", "Expires"}},
      {"col.why", {"Varför", "Why"}},
      {"why.EXPIRED",
       {"inte levererat inom sin giltighetstid", "not delivered within its time to live"}},
      {"why.CONSENT_REVOKED", {"samtycket återkallades", "the consent was revoked"}},
      {"why.CONSENT_EXPIRED", {"samtycket gäller inte längre", "the consent is no longer valid"}},
      {"why.CONSENT_REQUIRED",
       {"typen kräver samtycke och inget angavs", "the type needs consent and none was given"}},
      {"why.CONSENT_SCOPE",
       {"samtycket omfattar inte barnet, parten eller ändamålet",
        "the consent does not cover this child, party or purpose"}},
      {"why.NOT_ALLOWED",
       {"reglerna tillåter inte vägen för typen", "the rules forbid this route for the type"}},
      {"why.UNKNOWN_RECIPIENT",
       {"mottagaren finns inte i förtroendekatalogen", "the recipient is not in the directory"}},
      {"why.SCHEMA_INVALID",
       {"dokumentet följer inte sitt schema", "the document does not match its schema"}},
      {"why.DECRYPT_FAILED",
       {"mottagaren kunde inte dekryptera", "the recipient could not decrypt it"}},
      // Health
      {"health.title", {"Mäklarens driftläge", "The broker's health"}},
      {"health.storage", {"Lagring", "Storage"}},
      {"health.storage.ok", {"tar emot nya meddelanden", "accepting new work"}},
      {"health.storage.caption", {"Lagring och granskningslogg", "Storage and the audit log"}},
      {"health.free", {"Ledigt utrymme för data_dir", "Free space of data_dir"}},
      {"health.free.unbounded", {"obegränsat (i minnet)", "unbounded (in memory)"}},
      {"health.min_free",
       {"Gräns (min_free_bytes): under den nekas nytt",
        "Floor (min_free_bytes): below it new work is refused"}},
      {"health.headroom", {"Marginal till gränsen", "Headroom above the floor"}},
      {"health.none", {"ingen", "none"}},
      {"health.commit_errors",
       {"Misslyckade skrivningar (fsync/commit) sedan start",
        "Failed commits (fsync/commit) since start"}},
      {"health.head_age",
       {"Tid sedan senaste signerade trädhuvud", "Time since the latest signed tree head"}},
      {"health.head_signed", {"Senaste trädhuvud signerat", "Latest tree head signed"}},
      {"health.unsigned",
       {"Poster som inget signerat huvud täcker än", "Records no signed head covers yet"}},
      {"health.head.none",
       {"inget huvud signerat sedan mäklaren startade", "no head signed since the broker started"}},
      {"health.metrics", {"Mätvärden från mäklaren", "The broker's metrics"}},
      {"health.metrics.none",
       {"Mätvärden kunde inte hämtas (broker_http saknas eller svarar inte).",
        "Metrics could not be read (broker_http is not set or does not answer)."}},
      {"health.metric", {"Mätvärde", "Metric"}},
      {"health.value", {"Värde", "Value"}},
      {"health.commit_mean",
       {"Genomsnittlig skrivtid (fsync) per omgång", "Mean commit (fsync) time per batch"}},
      {"health.keys", {"Nycklar i förtroendekatalogen", "Keys in the trust directory"}},
      {"col.principal", {"Part", "Principal"}},
      {"col.role", {"Roll", "Role"}},
      {"col.key", {"Nyckel", "Key"}},
      {"col.valid_until", {"Giltig till", "Valid until"}},
      {"health.runbooks",
       {"Vad varje larm betyder och vad man gör: se larmrutinerna.",
        "What each alert means and what to do: see the alert runbooks."}},
      {"runbooks.title", {"Larmrutiner", "Alert runbooks"}},
      {"runbooks.intro",
       {"Rutinerna för Prometheus-larmen (deploy/prometheus/README.md), på engelska.",
        "The runbooks for the Prometheus alerts (deploy/prometheus/README.md)."}},
      // Trail
      {"trail.title", {"Granskningslogg", "Audit trail"}},
      {"trail.by_pnr", {"Ett barns logg", "A child's trail"}},
      {"trail.pnr", {"Personnummer", "Personal identity number"}},
      {"trail.pnr.hint",
       {"Skickas med POST och görs om till en pseudonym i konsolen med länets nyckel; "
        "mäklaren ser aldrig numret.",
        "Sent by POST and turned into a pseudonym in the console with the county key; the "
        "broker never sees the number."}},
      {"trail.by_endpoint", {"En verksamhets logg", "An endpoint's trail"}},
      {"trail.endpoint", {"Verksamhetens id", "Endpoint id"}},
      {"trail.from", {"Från (RFC 3339, valfritt)", "From (RFC 3339, optional)"}},
      {"trail.to", {"Till (RFC 3339, valfritt)", "To (RFC 3339, optional)"}},
      {"trail.search", {"Sök", "Search"}},
      {"trail.result", {"Poster", "Records"}},
      {"trail.none", {"Inga poster.", "No records."}},
      {"trail.for_subject", {"Pseudonym", "Pseudonym"}},
      {"trail.recorded",
       {"Sökningen är själv loggad som audit_query.",
        "This search is itself recorded as audit_query."}},
      {"trail.complete",
       {"Loggen är fullständig: varje post i barnets eller verksamhetens kedja finns med.",
        "The trail is complete: every record of the child's or endpoint's chain is here."}},
      {"trail.failed",
       {"Granskningsloggen kunde INTE verifieras", "The trail could NOT be verified"}},
      {"trail.need",
       {"Ange ett personnummer eller ett verksamhets-id.",
        "Enter a personal identity number or an endpoint id."}},
      {"col.seq", {"Position", "Position"}},
      {"col.message", {"Meddelande", "Message"}},
      {"col.type", {"Typ", "Type"}},
      {"col.from", {"Från", "From"}},
      {"col.to", {"Till", "To"}},
      {"col.consent", {"Samtycke", "Consent"}},
      {"col.proof", {"Bevis", "Proof"}},
      {"proof.verified", {"verifierad", "verified"}},
      {"proof.failed", {"FEL", "FAILED"}},
      {"proof.head",
       {"Varje post är kontrollerad i konsolen mot det signerade trädhuvudet: storlek",
        "Each record was checked in the console against the signed tree head: size"}},
      {"root", {"rot", "root"}},
      // Verify
      {"verify.title", {"Verifiera granskningsloggen", "Verify the audit log"}},
      {"verify.text",
       {"Kontrollerar det signerade trädhuvudet, att loggen bara har vuxit sedan förra "
        "kontrollen, och varje post mot huvudet – samma som stafett audit verify.",
        "Checks the signed tree head, that the log only grew since the last check, and every "
        "record against the head – the same as stafett audit verify."}},
      {"verify.run", {"Verifiera nu", "Verify now"}},
      {"verify.ok", {"Loggen är verifierad", "The log is verified"}},
      {"verify.failed", {"Verifieringen MISSLYCKADES", "Verification FAILED"}},
      {"verify.size", {"Trädets storlek", "Tree size"}},
      {"verify.checked", {"Kontrollerade poster", "Records checked"}},
      {"verify.previous",
       {"Förenligt med tidigare huvud (storlek)", "Consistent with the earlier head (size)"}},
      {"verify.first", {"första kontrollen", "first check"}},
      // Extract
      {"extract.title", {"Registerutdrag", "Register extract"}},
      {"extract.form.text",
       {"Ett utskrivbart utdrag för ett barn: samtycken, överlämningar som byggde på dem, "
        "nekade försändelser och ett verifieringsintyg.",
        "A printable extract for one child: consents, hand-offs relying on them, refusals and "
        "a verification statement."}},
      {"extract.format", {"Format", "Format"}},
      {"extract.language", {"Språk", "Language"}},
      {"extract.make", {"Skapa utdrag", "Make the extract"}},
      {"extract.heading", {"Registerutdrag ur Stafett", "Register extract from Stafett"}},
      {"extract.intro",
       {"Det här utdraget visar vilka samtycken som fanns för barnet, vilka överlämningar mellan "
        "skola, socialtjänst och hälso- och sjukvård som byggde på dem, och vilka försändelser "
        "som stoppades. Innehållet i meddelandena visas inte; Stafett kan inte läsa det.",
        "This extract shows the consents recorded for the child, the hand-offs between school, "
        "social services and health care that relied on them, and the messages that were "
        "stopped. The messages' contents are not shown; Stafett cannot read them."}},
      {"extract.subject", {"Barnet", "The child"}},
      {"extract.pnr", {"Personnummer", "Personal identity number"}},
      {"extract.pseudonym", {"Pseudonym i loggen", "Pseudonym in the log"}},
      {"extract.generated", {"Utdraget skapat", "Extract made"}},
      {"extract.by", {"Utfärdat av", "Issued by"}},
      {"extract.consents", {"Samtycken", "Consents"}},
      {"extract.consents.none", {"Inga samtycken är registrerade.", "No consents are recorded."}},
      {"col.given_by", {"Givet av", "Given by"}},
      {"col.recorded_by", {"Registrerat av", "Recorded by"}},
      {"col.parties", {"Parter", "Parties"}},
      {"col.purposes", {"Ändamål", "Purposes"}},
      {"col.period", {"Giltigt", "Valid"}},
      {"col.granted", {"Givet", "Granted"}},
      {"col.revoked", {"Återkallat", "Revoked"}},
      {"not_revoked", {"nej", "no"}},
      {"given_by.unknown",
       {"framgår inte av loggen (står i samtyckesdokumentet hos verksamheten)",
        "not in the log (it is in the consent document held by the endpoint)"}},
      {"extract.handoffs", {"Överlämningar", "Hand-offs"}},
      {"extract.handoffs.none", {"Inga överlämningar.", "No hand-offs."}},
      {"col.when", {"När", "When"}},
      {"col.delivered", {"Levererat", "Delivered"}},
      {"delivered.no", {"inte levererat", "not delivered"}},
      {"delivered.waiting", {"väntar", "waiting"}},
      {"extract.refusals", {"Nekade försändelser", "Refusals"}},
      {"extract.refusals.none", {"Inga försändelser har nekats.", "No messages were refused."}},
      {"extract.lookups", {"Sökningar i loggen om barnet", "Searches of the log about the child"}},
      {"extract.verification", {"Verifieringsintyg", "Verification statement"}},
      {"extract.verification.text",
       {"Varje post i utdraget är kontrollerad mot granskningsloggens signerade trädhuvud. Vem "
        "som helst med tillgång till loggen kan pröva det med kommandot stafett audit verify.",
        "Each record in this extract was checked against the audit log's signed tree head. "
        "Anyone with access to the log can check it with the command stafett audit verify."}},
      {"extract.log_size", {"Loggens storlek", "Log size"}},
      {"extract.root", {"Trädets rot", "Tree root"}},
      {"extract.head_time", {"Huvudet signerat", "Head signed"}},
      {"extract.key", {"Signerat med nyckel", "Signed with key"}},
      {"extract.signature", {"Signatur", "Signature"}},
      {"extract.all_verified", {"Alla poster verifierade", "All records verified"}},
      {"role.guardian", {"vårdnadshavare", "guardian"}},
      {"role.child", {"barnet", "the child"}},
      {"event.accepted", {"mottaget", "accepted"}},
      {"event.refused", {"nekat", "refused"}},
      {"event.delivered", {"levererat", "delivered"}},
      {"event.expired", {"förfallet", "expired"}},
      {"event.withheld", {"stoppat", "withheld"}},
      {"event.consent_granted", {"samtycke givet", "consent granted"}},
      {"event.consent_revoked", {"samtycke återkallat", "consent revoked"}},
      {"event.audit_query", {"sökning i loggen", "audit query"}},
      {"event.retention", {"gallring enligt regel", "removal by retention policy"}},
  };
  return texts;
}

void ReplaceAll(std::string& text, std::string_view from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string NormaliseLanguage(std::string_view language) { return language == "en" ? "en" : "sv"; }

std::string Text(const std::string& language, std::string_view key) {
  auto found = AllTexts().find(key);
  if (found == AllTexts().end()) return std::string(key);
  return std::string(language == "en" ? found->second.second : found->second.first);
}

std::string RenderPage(const Page& page) {
  std::string html(FindAsset("layout.html").value_or(""));
  // The main part last: it may hold text that looks like a placeholder.
  ReplaceAll(html, "{{lang}}", Escape(page.language));
  ReplaceAll(html, "{{title}}", Escape(page.title));
  ReplaceAll(html, "{{skip}}", Escape(Text(page.language, "skip")));
  ReplaceAll(html, "{{role}}", Escape(page.role));
  ReplaceAll(html, "{{footer}}", Escape(Text(page.language, "footer")));
  ReplaceAll(html, "{{nav}}", page.nav);
  ReplaceAll(html, "{{main}}", page.main);
  return html;
}

}  // namespace stafett::tools::console
