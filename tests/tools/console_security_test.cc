// Tests for the console's security pieces: the login token is one-time and constant-time
// compared, sessions and their CSRF tokens, the cookie's attributes, the response headers; and
// the same through a real ConsoleServer on loopback (no broker needed for these routes): no
// page without a session, a wrong or reused token refused, a POST without the CSRF token
// refused, the headers on every response.
// Thread-safety: each test owns its server and its thread.
#include <gtest/gtest.h>
#include <httplib.h>

#include <set>
#include <thread>

#include "console/assets.h"
#include "console/html.h"
#include "console/operator_views.h"
#include "console/security.h"
#include "console/server.h"
#include "county_init.h"
#include "support/sandbox_files.h"

namespace stafett::tools::console {
namespace {

namespace fs = std::filesystem;

TEST(ConsoleSecurityTest, RandomTokensAre256BitsAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string token = RandomToken();
    EXPECT_EQ(token.size(), 64u);
    EXPECT_EQ(token.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(ConsoleSecurityTest, LoginTokenRedeemsOnceAndAWrongOneDoesNotUseItUp) {
  LoginToken token("a1b2c3");
  EXPECT_FALSE(token.Redeem(""));
  EXPECT_FALSE(token.Redeem("a1b2c4"));
  EXPECT_FALSE(token.Redeem("a1b2c3d"));
  EXPECT_TRUE(token.Redeem("a1b2c3"));
  EXPECT_FALSE(token.Redeem("a1b2c3"));  // reused
  LoginToken empty("");
  EXPECT_FALSE(empty.Redeem(""));
}

TEST(ConsoleSecurityTest, SessionsAreFoundByTheirIdUntilTheyEndOrExpire) {
  core::ManualClock clock(1'000'000);
  SessionStore sessions(clock, 60'000'000);
  Session session = sessions.Create();
  EXPECT_EQ(session.id.size(), 64u);
  EXPECT_EQ(session.csrf.size(), 64u);
  EXPECT_NE(session.id, session.csrf);
  ASSERT_TRUE(sessions.Find(session.id).has_value());
  EXPECT_FALSE(sessions.Find(session.id.substr(0, 63)).has_value());
  EXPECT_FALSE(sessions.Find("").has_value());
  EXPECT_FALSE(sessions.Find(session.csrf).has_value());
  sessions.SetLanguage(session.id, "en");
  EXPECT_EQ(sessions.Find(session.id)->language, "en");
  clock.Advance(61'000'000);
  EXPECT_FALSE(sessions.Find(session.id).has_value());  // expired
  Session other = sessions.Create();
  sessions.End(other.id);
  EXPECT_FALSE(sessions.Find(other.id).has_value());
}

TEST(ConsoleSecurityTest, CsrfMustMatchTheSessionsToken) {
  Session session{"id", "0123abcd", "sv", 0};
  EXPECT_TRUE(CsrfMatches(session, "0123abcd"));
  EXPECT_FALSE(CsrfMatches(session, ""));
  EXPECT_FALSE(CsrfMatches(session, "0123abce"));
  EXPECT_FALSE(CsrfMatches(session, "0123abcd0"));
  Session without{"id", "", "sv", 0};
  EXPECT_FALSE(CsrfMatches(without, ""));
}

TEST(ConsoleSecurityTest, CookieIsHttpOnlyAndStrictAndParsesBack) {
  EXPECT_EQ(SessionCookieName(7790), "stafett_console_7790");
  std::string header = SessionCookieHeader("stafett_console", "abc");
  EXPECT_NE(header.find("stafett_console=abc;"), std::string::npos);
  EXPECT_NE(header.find("HttpOnly"), std::string::npos);
  EXPECT_NE(header.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(CookieValue("a=1; stafett_console=xyz; b=2", "stafett_console"), "xyz");
  EXPECT_EQ(CookieValue("stafett_console=xyz", "stafett_console"), "xyz");
  EXPECT_FALSE(CookieValue("xstafett_console=xyz", "stafett_console").has_value());
  EXPECT_FALSE(CookieValue("", "stafett_console").has_value());
}

TEST(ConsoleSecurityTest, HeadersForbidInlineScriptFramingSniffingReferrerAndCaching) {
  httplib::Response response;
  AddSecurityHeaders(response);
  std::string policy = response.get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(policy.find("form-action 'self'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(response.get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(response.get_header_value("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(response.get_header_value("Cache-Control"), "no-store");
}

TEST(ConsoleSecurityTest, AssetsAreEmbeddedAndTheLayoutHasNoInlineScript) {
  ASSERT_TRUE(FindAsset("console.css").has_value());
  ASSERT_TRUE(FindAsset("console.js").has_value());
  ASSERT_TRUE(FindAsset("runbooks.md").has_value());
  std::string layout(FindAsset("layout.html").value_or(""));
  EXPECT_NE(layout.find("<script src=\"/assets/console.js\""), std::string::npos);
  EXPECT_EQ(layout.find("<script>"), std::string::npos);
  EXPECT_EQ(layout.find("style="), std::string::npos);
  EXPECT_EQ(Escape("<a href=\"x\">'&"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
}

// The queues view (issue 20): each waiting and ended message links to its timeline, the state
// says why it waits, the code why it ended; ids are escaped; nothing but the metadata given.
TEST(ConsoleViewsTest, TheQueuesViewLinksEachMessageAndSaysWhyItWaitsOrEnded) {
  nlohmann::json queues = {
      {"endpoints",
       {{{"id", "flen.social"},
         {"connected", false},
         {"queue_depth", 1},
         {"truncated", false},
         {"waiting",
          {{{"message_id", "m-1"},
            {"type", "concern_report"},
            {"from", "flen.school"},
            {"queued_at", "2026-12-04T10:00:00.000Z"},
            {"age_seconds", 3600.0},
            {"expires_at", "2026-12-11T10:00:00.000Z"},
            {"state", "queued"}}}}},
        {{"id", "region.health"}, {"connected", true}, {"queue_depth", 0}, {"waiting", {}}}}},
      {"ended",
       {{{"seq", 7},
         {"time", "2026-12-04T09:00:00.000Z"},
         {"event", "withheld"},
         {"message_id", "m<2>"},
         {"type", "support_request"},
         {"from", "flen.school"},
         {"to", {"region.health"}},
         {"code", "CONSENT_REVOKED"}}}},
      {"ended_truncated", false},
      {"ended_scanned_from_seq", 0}};
  std::string sv = RenderQueues(queues, "sv");
  EXPECT_NE(sv.find("<a href=\"/messages/m-1\"><code>m-1</code></a>"), std::string::npos) << sv;
  EXPECT_NE(sv.find("i kö: mottagaren är inte ansluten"), std::string::npos) << sv;
  EXPECT_NE(sv.find("flen.social – 1 i kö, mottagaren är INTE ansluten"), std::string::npos);
  EXPECT_EQ(sv.find("data-endpoint=\"region.health\""), std::string::npos)
      << "an endpoint with nothing waiting has no table";
  EXPECT_NE(sv.find("/messages/m&lt;2&gt;"), std::string::npos) << "ids are escaped";
  EXPECT_EQ(sv.find("m<2>"), std::string::npos);
  EXPECT_NE(sv.find("CONSENT_REVOKED"), std::string::npos);
  EXPECT_NE(sv.find("samtycket återkallades"), std::string::npos);
  EXPECT_NE(sv.find("stoppat"), std::string::npos);
  std::string en = RenderQueues(queues, "en");
  EXPECT_NE(en.find("the consent was revoked"), std::string::npos);
  EXPECT_NE(en.find("Waiting for delivery"), std::string::npos);
  std::string empty = RenderQueues(nlohmann::json::object(), "sv");
  EXPECT_NE(empty.find("Inget väntar på leverans."), std::string::npos);
  EXPECT_NE(empty.find("Ingen försändelse har avslutats utan leverans."), std::string::npos);
}

// The health view (issue 20): disk headroom against min_free_bytes, commit errors by code and
// the tree head's age, from the status answer alone (no broker_http).
TEST(ConsoleViewsTest, TheHealthViewShowsHeadroomCommitErrorsAndTheTreeHeadAge) {
  nlohmann::json status = {{"audit_size", 12},
                           {"storage_full", false},
                           {"storage",
                            {{"full", false},
                             {"free_bytes", 3ULL * 1024 * 1024 * 1024},
                             {"min_free_bytes", 64ULL * 1024 * 1024},
                             {"commit_errors", {{"STORAGE_FULL", 2}}}}},
                           {"tree_head",
                            {{"tree_size", 10},
                             {"signed_at", "2026-12-04T10:00:00.000Z"},
                             {"age_seconds", 900.0},
                             {"unsigned_records", 2}}}};
  keys::TrustDirectory directory;
  std::string sv = RenderHealth(status, "", directory, "sv");
  EXPECT_NE(sv.find("3,0 GiB"), std::string::npos) << sv;
  EXPECT_NE(sv.find("64,0 MiB"), std::string::npos) << sv;
  EXPECT_NE(sv.find("2,9 GiB"), std::string::npos) << "headroom: free minus the floor\n" << sv;
  EXPECT_NE(sv.find("<td class=\"warning\">2 (STORAGE_FULL: 2)</td>"), std::string::npos) << sv;
  EXPECT_NE(sv.find("<td class=\"warning\">15m</td>"), std::string::npos)
      << "an old head while records wait to be signed\n"
      << sv;
  EXPECT_NE(sv.find("2026-12-04T10:00:00.000Z (Trädets storlek 10)"), std::string::npos) << sv;
  status["storage"]["commit_errors"] = nlohmann::json::object();
  status["tree_head"] = nullptr;
  std::string en = RenderHealth(status, "", directory, "en");
  EXPECT_NE(en.find("<td class=\"ok\">0</td>"), std::string::npos) << en;
  EXPECT_NE(en.find("no head signed since the broker started"), std::string::npos) << en;
}

// A real server on an ephemeral loopback port, with an operator's config from county init.
class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        InitCounty({county(), "three", 7700, 365, core::SystemClock::Instance().Now()}).ok());
    ConsoleOptions options;
    options.config_path = (county() / "operator" / "operator.toml").string();
    core::Result<std::unique_ptr<ConsoleServer>> server = ConsoleServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    // Wait for the listener (bound already; accepting once Run has started).
    for (int i = 0; i < 200 && !client_->Get("/welcome"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  fs::path county() const { return fs::path(temp_.path()) / "county"; }
  std::string Token() const {
    std::string url = server_->LoginUrl();
    return url.substr(url.find("token=") + 6);
  }
  // Logs in; the Cookie header value.
  std::string LogIn() {
    httplib::Result result = client_->Get("/login?token=" + Token());
    EXPECT_TRUE(result);
    if (!result) return "";
    EXPECT_EQ(result->status, 303);
    std::string cookie = result->get_header_value("Set-Cookie");
    return cookie.substr(0, cookie.find(';'));
  }
  static void ExpectSecurityHeaders(const httplib::Response& response) {
    EXPECT_NE(response.get_header_value("Content-Security-Policy").find("script-src 'self'"),
              std::string::npos);
    EXPECT_EQ(response.get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(response.get_header_value("Referrer-Policy"), "no-referrer");
    EXPECT_EQ(response.get_header_value("Cache-Control"), "no-store");
  }

  testing::TempDir temp_{"stafett-console-test"};
  std::unique_ptr<ConsoleServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ConsoleServerTest, TheLoginLinkIsLoopbackWithA256BitToken) {
  EXPECT_EQ(server_->LoginUrl().rfind("http://127.0.0.1:", 0), 0u);
  EXPECT_EQ(Token().size(), 64u);
  EXPECT_EQ(server_->role(), "operator");
}

TEST_F(ConsoleServerTest, NoPageWithoutASession) {
  for (const char* path :
       {"/", "/endpoints", "/messages", "/messages/m-1", "/queues", "/health", "/runbooks"}) {
    httplib::Result result = client_->Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 303) << path;
    EXPECT_EQ(result->get_header_value("Location"), "/welcome") << path;
    ExpectSecurityHeaders(*result);
  }
  httplib::Result json = client_->Get("/endpoints.json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 401);
  httplib::Result welcome = client_->Get("/welcome");
  ASSERT_TRUE(welcome);
  EXPECT_NE(welcome->body.find("login?token="), std::string::npos);
  ExpectSecurityHeaders(*welcome);
  // A forged cookie is no session either.
  httplib::Result forged = client_->Get(
      "/runbooks", {{"Cookie", SessionCookieName(server_->port()) + "=" + RandomToken()}});
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 303);
}

TEST_F(ConsoleServerTest, AWrongOrReusedLoginTokenIsRefused) {
  httplib::Result wrong = client_->Get("/login?token=" + RandomToken());
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  EXPECT_TRUE(wrong->get_header_value("Set-Cookie").empty());
  ExpectSecurityHeaders(*wrong);
  std::string cookie = LogIn();  // the wrong attempt did not use the token up
  EXPECT_EQ(cookie.rfind(SessionCookieName(server_->port()) + "=", 0), 0u);
  httplib::Result reused = client_->Get("/login?token=" + Token());
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->status, 403);
  EXPECT_TRUE(reused->get_header_value("Set-Cookie").empty());
}

TEST_F(ConsoleServerTest, ASessionSeesPagesWithTheHeadersAndCookieAttributes) {
  httplib::Result login = client_->Get("/login?token=" + Token());
  ASSERT_TRUE(login);
  std::string set_cookie = login->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(login->get_header_value("Location"), "/");
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  httplib::Result page = client_->Get("/runbooks", {{"Cookie", cookie}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  ExpectSecurityHeaders(*page);
  EXPECT_NE(page->body.find("<html lang=\"sv\">"), std::string::npos);
  EXPECT_NE(page->body.find("id=\"StafettStorageFull\""), std::string::npos);
  EXPECT_NE(page->body.find("class=\"skip-link\" href=\"#main\""), std::string::npos);
  httplib::Result css = client_->Get("/assets/console.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_NE(css->get_header_value("Content-Type").find("text/css"), std::string::npos);
  ExpectSecurityHeaders(*css);
  // A message id that is not one never reaches the broker, nor the URL it is redirected to.
  httplib::Result bad = client_->Get("/messages?id=..%2Fx%3Cy", {{"Cookie", cookie}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body.find("<y"), std::string::npos);
  httplib::Result good = client_->Get("/messages?id=m-1.ok", {{"Cookie", cookie}});
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 303);
  EXPECT_EQ(good->get_header_value("Location"), "/messages/m-1.ok");
}

TEST_F(ConsoleServerTest, APostWithoutTheCsrfTokenIsRefused) {
  std::string cookie = LogIn();
  httplib::Result page = client_->Get("/runbooks", {{"Cookie", cookie}});
  ASSERT_TRUE(page);
  std::string marker = "name=\"csrf\" value=\"";
  size_t at = page->body.find(marker);
  ASSERT_NE(at, std::string::npos);
  std::string csrf = page->body.substr(at + marker.size(), 64);
  httplib::Headers headers = {{"Cookie", cookie}};
  const char* form = "application/x-www-form-urlencoded";
  httplib::Result none = client_->Post("/language", headers, "lang=en&return=/runbooks", form);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 403);
  ExpectSecurityHeaders(*none);
  httplib::Result wrong =
      client_->Post("/language", headers, "lang=en&csrf=" + RandomToken(), form);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  // In the URL instead of the form: still refused.
  httplib::Result in_url = client_->Post("/language?csrf=" + csrf, headers, "lang=en", form);
  ASSERT_TRUE(in_url);
  EXPECT_EQ(in_url->status, 403);
  EXPECT_NE(client_->Get("/runbooks", headers)->body.find("<html lang=\"sv\">"), std::string::npos);
  httplib::Result ok =
      client_->Post("/language", headers, "lang=en&return=/runbooks&csrf=" + csrf, form);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303);
  EXPECT_EQ(ok->get_header_value("Location"), "/runbooks");
  EXPECT_NE(client_->Get("/runbooks", headers)->body.find("<html lang=\"en\">"), std::string::npos);
  // Without a session a POST is refused outright.
  httplib::Result anonymous = client_->Post("/language", "lang=en&csrf=" + csrf, form);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 403);
  // Logging out ends the session.
  httplib::Result out = client_->Post("/logout", headers, "csrf=" + csrf, form);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  EXPECT_EQ(client_->Get("/runbooks", headers)->status, 303);
}

TEST_F(ConsoleServerTest, AnOperatorHasNoAuditorViews) {
  std::string cookie = LogIn();
  for (const char* path : {"/trail", "/verify", "/extract"}) {
    httplib::Result result = client_->Get(path, {{"Cookie", cookie}});
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 404) << path;
    ExpectSecurityHeaders(*result);
  }
}

}  // namespace
}  // namespace stafett::tools::console
