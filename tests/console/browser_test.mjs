// The console in a real browser: Debian's headless Chromium driven by Playwright (playwright-core,
// never a browser download), axe-core on every view. Run by tests/integration/console_test.cc
// against a live sandbox; one argument, a JSON file naming the consoles' login URLs, the child's
// number and name, the message ids to expect and where screenshots go. Prints one JSON line
// {"ok": bool, "failures": [...], "pages": {...}} and exits 0 only when every check held.
import { chromium } from "playwright-core";
import { readFileSync, writeFileSync, mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const axeSource = readFileSync(join(here, "node_modules/axe-core/axe.min.js"), "utf8");
const failures = [];
const operatorPages = {};  // path -> HTML, scanned for the child's number and name
const check = (condition, what) => { if (!condition) failures.push(what); return condition; };
mkdirSync(input.screenshots, { recursive: true });

function origin(url) { return new URL(url).origin; }

async function audit(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }));
  for (const violation of result.violations) {
    failures.push(`axe ${name}: ${violation.id} (${violation.impact}) on ` +
                  violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join(", "));
  }
  await page.screenshot({ path: join(input.screenshots, `${name}.png`), fullPage: true });
}

const profile = mkdtempSync(join(tmpdir(), "stafett-console-browser-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: input.chromium || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
const cspErrors = [];
context.on("console", (message) => {
  if (/Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
});
try {
  const page = context.pages()[0] || await context.newPage();
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
  });

  // --- Operator -------------------------------------------------------------------------------
  const op = origin(input.operator_url);
  let response = await page.goto(op + "/endpoints");
  check(new URL(page.url()).pathname === "/welcome", "no session: /endpoints did not lead to /welcome");
  check((await page.content()).includes("login?token="), "no session: the page does not say to use the login link");
  response = await page.goto(op + "/login?token=" + "0".repeat(64));
  check(response.status() === 403, `wrong token answered ${response.status()}`);
  response = await page.goto(input.operator_url);
  check(new URL(page.url()).pathname === "/endpoints", `login led to ${page.url()}`);
  const rows = await page.locator("#endpoints tbody tr").count();
  check(rows === input.endpoints.length, `endpoints table has ${rows} rows`);
  for (const id of input.endpoints) {
    check(await page.locator("#endpoints tbody th", { hasText: id }).count() === 1, `endpoint ${id} not listed`);
  }
  // Those still connected show so (one was stopped for the queues view below).
  check((await page.locator("#endpoints tbody td.ok").count()) >= input.connected_endpoints.length,
        "not every connected endpoint shown as connected");
  // The script refreshes the table by itself.
  const before = await page.locator("#endpoints-updated").textContent();
  await page.waitForFunction((old) => document.getElementById("endpoints-updated").textContent !== old,
                             before, { timeout: 15000 }).catch(() => failures.push("the endpoints table did not refresh"));
  operatorPages["/endpoints"] = await page.content();
  await audit(page, "operator-endpoints");

  response = await page.goto(input.operator_url);
  check(response.status() === 403, `reused token answered ${response.status()}`);

  await page.goto(op + "/messages");
  await page.getByLabel(/Meddelande-id/).fill(input.message_id);
  await Promise.all([page.waitForURL(`**/messages/${input.message_id}`), page.getByRole("button", { name: "Visa" }).click()]);
  const timeline = await page.locator("#timeline tbody").textContent();
  check(timeline.includes("accepted") && timeline.includes("delivered"), `timeline lacks accepted/delivered: ${timeline}`);
  operatorPages["/messages"] = await page.content();
  await audit(page, "operator-message");

  // Queues and what is stuck and why: the stopped endpoint's queue, the withheld request with
  // its code, each id a link to its timeline.
  await page.goto(op + "/queues");
  check(await page.locator("nav a[aria-current='page'][href='/queues']").count() === 1, "queues not current in the nav");
  const q = input.queues;
  const waiting = await page.locator(`table.waiting[data-endpoint="${q.endpoint}"] tbody`).textContent().catch(() => "");
  for (const id of q.waiting) check(waiting.includes(id), `queues: ${q.endpoint} lacks waiting ${id}: ${waiting}`);
  const ended = await page.locator("#ended-table tbody").textContent().catch(() => "");
  check(ended.includes(q.ended) && ended.includes(q.ended_code), `queues: ended lacks ${q.ended} ${q.ended_code}: ${ended}`);
  operatorPages["/queues"] = await page.content();
  await audit(page, "operator-queues");
  await Promise.all([page.waitForURL(`**/messages/${q.ended}`),
                     page.locator(`#ended-table a[href="/messages/${q.ended}"]`).first().click()]);
  const withheld = await page.locator("#timeline tbody").textContent();
  check(withheld.includes("withheld") && withheld.includes(q.ended_code), `the ended message's timeline lacks withheld: ${withheld}`);

  await page.goto(op + "/health");
  check(await page.locator("#keys tbody tr").count() > 0, "health shows no keys");
  const storage = await page.locator("#storage tbody").textContent().catch(() => "");
  for (const label of ["Marginal till gränsen", "Misslyckade skrivningar", "Tid sedan senaste signerade trädhuvud"]) {
    check(storage.includes(label), `health lacks ${label}: ${storage}`);
  }
  check(await page.locator("a[href='/runbooks']").count() > 0, "health does not link the runbooks");
  operatorPages["/health"] = await page.content();
  await audit(page, "operator-health");
  await page.goto(op + "/runbooks");
  check(await page.locator("#StafettStorageFull").count() === 1, "runbooks lack StafettStorageFull");
  operatorPages["/runbooks"] = await page.content();
  await audit(page, "operator-runbooks");

  // A POST without the CSRF token is refused (the session cookie alone is not enough).
  const forged = await page.request.post(op + "/language", { form: { lang: "en", return: "/endpoints" }, maxRedirects: 0 });
  check(forged.status() === 403, `POST without CSRF answered ${forged.status()}`);
  // English is available: the switch in the header.
  await page.goto(op + "/endpoints");
  await page.getByRole("button", { name: "English" }).click();
  await page.waitForLoadState();
  check(await page.getAttribute("html", "lang") === "en", "the language switch did not give English");
  check((await page.content()).includes("Endpoints"), "English page lacks its title");
  operatorPages["/endpoints (en)"] = await page.content();
  await audit(page, "operator-endpoints-en");

  // --- Auditor --------------------------------------------------------------------------------
  const au = origin(input.auditor_url);
  response = await page.goto(au + "/trail");
  check(new URL(page.url()).pathname === "/welcome", "auditor without session not sent to /welcome");
  await page.goto(input.auditor_url);
  await page.goto(au + "/trail");
  await audit(page, "auditor-trail-form");
  await page.getByLabel(/^Personnummer/).fill(input.pnr);
  await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Sök" }).click()]);
  await page.waitForSelector("#trail");
  check(!page.url().includes(input.pnr.replace("-", "")) && !page.url().includes(input.pnr), "the personnummer is in the URL");
  const trailText = await page.locator("#trail tbody").textContent();
  for (const id of input.trail_message_ids) check(trailText.includes(id), `trail lacks ${id}`);
  const recordRows = await page.locator("#trail tbody tr").count();
  const verified = await page.locator("#trail tbody td.proof.ok").count();
  check(recordRows > 0 && verified === recordRows, `proofs verified ${verified} of ${recordRows}`);
  check((await page.locator(".notice").textContent()).includes("audit_query"),
        "the page does not say where the search itself is recorded");
  await audit(page, "auditor-trail");

  await page.goto(au + "/trail");
  await page.getByLabel(/Verksamhetens id/).fill(input.endpoints[0]);
  await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Sök" }).click()]);
  await page.waitForSelector("#trail");
  check((await page.locator("#trail tbody tr").count()) > 0, "endpoint trail is empty");

  await page.goto(au + "/verify");
  await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Verifiera nu" }).click()]);
  await page.waitForSelector("#verify-result");
  check((await page.locator("#verify-result").textContent()).includes("verifierad"), "the log did not verify");
  await audit(page, "auditor-verify");

  await page.goto(au + "/extract");
  await audit(page, "auditor-extract-form");
  const csrf = await page.locator("form[action='/extract'] input[name=csrf]").getAttribute("value");
  await page.getByLabel(/^Personnummer/).fill(input.pnr);
  await Promise.all([page.waitForLoadState(), page.getByRole("button", { name: "Skapa utdrag" }).click()]);
  await page.waitForSelector("article.extract");
  const extractText = await page.locator("article.extract").textContent();
  // The console's own trail search above is in the extract, as a search of the log.
  for (const word of ["Registerutdrag", "Samtycken", "Överlämningar", "Verifieringsintyg",
                      "Sökningar i loggen", ...input.extract_words]) {
    check(extractText.includes(word), `extract lacks ${word}`);
  }
  await audit(page, "auditor-extract");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: join(input.screenshots, "auditor-extract-print.png"), fullPage: true });
  await page.emulateMedia({ media: "screen" });

  const pdf = await page.request.post(au + "/extract", { form: { csrf, pnr: input.pnr, format: "pdf", lang: "sv" } });
  check(pdf.status() === 200 && pdf.headers()["content-type"] === "application/pdf", `PDF answered ${pdf.status()}`);
  const pdfFile = join(profile, "extract.pdf");
  writeFileSync(pdfFile, await pdf.body());
  const pdfText = execFileSync("pdftotext", ["-layout", pdfFile, "-"], { encoding: "utf8" });
  for (const word of ["Registerutdrag ur Stafett", "Verifieringsintyg", "stafett audit verify", ...input.extract_words]) {
    check(pdfText.includes(word), `PDF text lacks ${word}`);
  }
  writeFileSync(join(input.screenshots, "extract.txt"), pdfText);
  const noCsrf = await page.request.post(au + "/trail", { form: { pnr: input.pnr } });
  check(noCsrf.status() === 403, `auditor POST without CSRF answered ${noCsrf.status()}`);
} catch (error) {
  failures.push("exception: " + (error && error.stack ? error.stack.split("\n").slice(0, 3).join(" ") : String(error)));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
for (const text of cspErrors) failures.push("CSP: " + text);
// The operator's pages never show the child's number (any form) or name.
const digits = input.pnr.replace(/\D/g, "");
const forms = [input.pnr, digits, digits.slice(2), input.pnr.slice(2), input.child_name];
for (const [path, html] of Object.entries(operatorPages)) {
  for (const form of forms) check(!html.includes(form), `operator page ${path} shows the child's number or name`);
}
writeFileSync(join(input.screenshots, "operator-pages.json"), JSON.stringify(Object.keys(operatorPages)));
console.log(JSON.stringify({ ok: failures.length === 0, failures }));
process.exit(failures.length === 0 ? 0 : 1);
