// TLS: with a certificate the server serves HTTPS and WSS only, Mozilla's "intermediate"
// configuration (TLS 1.2 with forward-secret AEAD suites, TLS 1.3), with HSTS; without one it
// serves plaintext on loopback only, unless told --allow-plaintext. The field
// client syncs over wss:// when it can verify the server (a CA file it is given, or the
// system's CAs) and refuses, clearly and without sending anything, when it cannot. The CA and
// certificates are made fresh for each run.
#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <fstream>
#include <thread>

#include "child_process.h"
#include "json_checks.h"
#include "process.h"
#include "server_process.h"
#include "ws_test_client.h"

namespace {

using test_support::ProcessResult;
using test_support::run_process;

// A throwaway CA and two server certificates it signed: one for 127.0.0.1 and localhost, one
// for another name only.
struct Pki {
  test_support::TempDir dir;
  std::string ca = dir.file("ca.pem");
  std::string cert = dir.file("server.pem");
  std::string key = dir.file("server.key");
  std::string other_cert = dir.file("other.pem");
  std::string other_key = dir.file("other.key");

  Pki() {
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.file("ca.key"), "-out", ca, "-days", "2",
             "-subj", "/CN=Safer Streets test CA"});
    issue(cert, key, "subjectAltName=IP:127.0.0.1,DNS:localhost");
    issue(other_cert, other_key, "subjectAltName=DNS:sync.other.example");
  }

  void issue(const std::string& out, const std::string& out_key, const std::string& names) {
    const std::string csr = out + ".csr", ext = out + ".ext";
    std::ofstream(ext) << names << "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n";
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", out_key, "-out", csr, "-subj", "/CN=sync test"});
    openssl({"x509", "-req", "-in", csr, "-CA", ca, "-CAkey", dir.file("ca.key"), "-CAcreateserial", "-out", out,
             "-days", "2", "-extfile", ext});
  }

  static void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    const auto result = run_process(args);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
  }
};

struct Tablet {
  test_support::TempDir dir;
  std::string store = dir.file("tablet.db");
  ProcessResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), {FIELD_CLIENT_BINARY, "--store", store});
    auto result = run_process(args);
    REQUIRE_FALSE(result.timed_out);
    return result;
  }
  void record_two() const {
    const auto household = run({"--json", "household", "add", "--address", "4 Example Yard", "--postcode", "WD6 4AB",
                                "--ward", "Elstree"});
    REQUIRE(household.exit_code == 0);
    rapidjson::Document id;
    id.Parse(household.out.c_str());
    REQUIRE(run({"visit", "record", "--household", id["id"].GetString(), "--status", "completed"}).exit_code == 0);
  }
  int pending() const {
    rapidjson::Document status;
    status.Parse(run({"--json", "status"}).out.c_str());
    return status["pending"].GetInt();
  }
};

// `field-client ui` on a fresh store (`extra`: more options), its port and launch key.
struct AppOnFreshStore {
  test_support::TempDir dir;
  std::string store = dir.file("tablet.db");
  std::unique_ptr<test_support::ChildProcess> process;
  unsigned short port = 0;
  std::string key;

  explicit AppOnFreshStore(std::vector<std::string> extra) {
    std::vector<std::string> argv = {FIELD_CLIENT_BINARY, "--store", store, "ui", "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<test_support::ChildProcess>(argv, dir.file("ui.log"));
    const std::string line = process->first_line();  // "field-client ui: open http://127.0.0.1:PORT/?key=KEY"
    port = static_cast<unsigned short>(std::stoi(line.substr(line.find("127.0.0.1:") + 10)));
    key = line.substr(line.find("key=") + 4);
  }
  test_support::HttpReply call(const std::string& method, const std::string& target, const std::string& body = "") const {
    return test_support::http_request(port, method, target, {{"X-Field-Client-Key", key}}, body,
                                      std::chrono::seconds(30));
  }
};

}  // namespace

TEST_CASE("the app enrols a tablet with a code over wss, and only from a server it can verify", "[e2e][tls][enrolment]") {
  Pki pki;
  test_support::ServerProcess server({"--tls-cert", pki.cert, "--tls-key", pki.key});
  server.start();
  const std::string wss = "wss://127.0.0.1:" + std::to_string(server.port());
  const auto made = server.admin({"enrolment-code", "--device", "tablet-app", "--user", "officer.ann", "--role",
                                  "officer", "--server", wss});
  INFO(made.err);
  REQUIRE(made.exit_code == 0);
  const std::string code = made.out.substr(0, made.out.find('\n'));
  REQUIRE(code.size() == 11);
  const std::string request = R"({"server":")" + wss + R"(", "code":")" + code + R"(", "pin":"482916"})";

  {
    // Against the system's CAs, which never signed this certificate: refused before anything
    // is sent, so the code is not spent and nothing is enrolled.
    AppOnFreshStore untrusting({});
    const auto refused = untrusting.call("POST", "/api/enrol", request);
    INFO(refused.body);
    CHECK(refused.status == 502);
    const auto body = test_support::parse_object(refused.body);
    CHECK(std::string(body["code"].GetString()) == "untrusted_server");
    CHECK(std::string(body["error"].GetString()).find("could not be verified") != std::string::npos);
    const auto status = test_support::parse_object(untrusting.call("GET", "/api/status").body);
    CHECK(status["enrolled"].GetBool() == false);
  }

  AppOnFreshStore app({"--ca-file", pki.ca, "--sync-interval", "0.5"});
  const auto enrolled = app.call("POST", "/api/enrol", request);
  INFO(enrolled.body);
  REQUIRE(enrolled.status == 200);
  CHECK(enrolled.body.find("sst_") == std::string::npos);  // the token stays in the store
  const auto answer = test_support::parse_object(enrolled.body);
  CHECK(std::string(answer["device_id"].GetString()) == "tablet-app");
  CHECK(std::string(answer["user_id"].GetString()) == "officer.ann");
  // The background sync reaches the server over wss with the token the code fetched.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool online = false;
  while (!online && std::chrono::steady_clock::now() < deadline) {
    const auto status = test_support::parse_object(app.call("GET", "/api/status").body);
    online = status["online"].IsBool() && status["online"].GetBool();
    if (!online) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(online);
  CHECK(server.log().find("device_enrolled device=tablet-app by=enrolment_code") != std::string::npos);
  CHECK(server.log().find(code) == std::string::npos);
  CHECK(server.log().find("sst_") == std::string::npos);
}

TEST_CASE("a tablet syncs over wss when it can verify the server, and refuses when it cannot", "[e2e][tls]") {
  Pki pki;
  test_support::ServerProcess server({"--tls-cert", pki.cert, "--tls-key", pki.key});
  server.start();
  const std::string wss = "wss://127.0.0.1:" + std::to_string(server.port());

  SECTION("verified with the CA file it was given") {
    Tablet tablet;
    const auto token = server.enroll("tablet-tls", "officer.ann", "officer");
    REQUIRE(tablet.run({"enroll", "--server", wss, "--token", token, "--device", "tablet-tls", "--ca-file", pki.ca}).exit_code == 0);
    tablet.record_two();
    const auto sync = tablet.run({"sync"});
    INFO(sync.err);
    CHECK(sync.exit_code == 0);
    CHECK(tablet.pending() == 0);
    CHECK(server.log().find("tls=on") != std::string::npos);
  }
  SECTION("refused against the system's CAs, which never signed this certificate") {
    Tablet tablet;
    const auto token = server.enroll("tablet-tls", "officer.ann", "officer");
    REQUIRE(tablet.run({"enroll", "--server", wss, "--token", token, "--device", "tablet-tls"}).exit_code == 0);
    tablet.record_two();
    const auto sync = tablet.run({"sync"});
    CHECK(sync.exit_code == 1);
    CHECK(sync.err.find("could not be verified") != std::string::npos);
    CHECK(sync.err.find("--ca-file") != std::string::npos);
    CHECK(tablet.pending() == 2);  // nothing was sent, nothing marked done
    // --watch does not retry it silently: it needs a person.
    const auto watch = tablet.run({"sync", "--watch", "--retry-base", "0.05"});
    CHECK(watch.exit_code == 1);
    CHECK(watch.err.find("stopped retrying") != std::string::npos);
  }
  SECTION("plain HTTP and WebSocket are not served on a TLS port") {
    CHECK(test_support::http_get(server.port(), "/healthz", "", std::chrono::seconds(3)).status == 0);
    test_support::WsTestClient client;
    CHECK_FALSE(client.connect(server.port(), server.enroll("t", "u", "officer"), std::chrono::seconds(3)).ok);
  }
}

TEST_CASE("a certificate for another name is refused even from a trusted CA", "[e2e][tls]") {
  Pki pki;
  test_support::ServerProcess server({"--tls-cert", pki.other_cert, "--tls-key", pki.other_key});
  server.start();
  Tablet tablet;
  const auto token = server.enroll("tablet-tls", "officer.ann", "officer");
  REQUIRE(tablet.run({"enroll", "--server", "wss://127.0.0.1:" + std::to_string(server.port()), "--token", token,
                      "--device", "tablet-tls", "--ca-file", pki.ca}).exit_code == 0);
  tablet.record_two();
  const auto sync = tablet.run({"sync"});
  CHECK(sync.exit_code == 1);
  CHECK(sync.err.find("could not be verified") != std::string::npos);
  CHECK(tablet.pending() == 2);
}

TEST_CASE("the server speaks TLS 1.2 or newer only, and dashboard cookies are Secure over TLS", "[e2e][tls]") {
  Pki pki;
  test_support::ServerProcess server({"--tls-cert", pki.cert, "--tls-key", pki.key});
  server.start();
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  const auto s_client = [&](const char* version) {
    return run_process({"/usr/bin/openssl", "s_client", version, "-cipher", "DEFAULT@SECLEVEL=0", "-connect", address,
                        "-CAfile", pki.ca, "-verify_return_error"},
                       test_support::ProcessOptions{.deadline = std::chrono::seconds(10), .input = "Q\n"});
  };
  const auto modern = s_client("-tls1_2");
  CHECK(modern.exit_code == 0);
  CHECK(modern.out.find("Verify return code: 0 (ok)") != std::string::npos);
  CHECK(s_client("-tls1_3").exit_code == 0);
  CHECK(s_client("-tls1_1").exit_code != 0);
  CHECK(s_client("-tls1").exit_code != 0);

  std::string password = "a long password for the test";
  REQUIRE(run_process({test_support::sync_server_binary(), "add-coordinator", "--db", server.db_path(), "--username", "cat"},
                      test_support::ProcessOptions{.input = password + "\n"}).exit_code == 0);
  const auto login = run_process({"/usr/bin/curl", "-s", "-i", "--cacert", pki.ca, "-H", "Content-Type: application/json",
                                  "-d", R"({"username":"cat","password":")" + password + "\"}",
                                  "https://" + address + "/api/v1/session"});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(login.out.find("HTTP/1.1 200") != std::string::npos);
  const auto cookie = login.out.find("Set-Cookie: ss_session=");
  REQUIRE(cookie != std::string::npos);
  const std::string line = login.out.substr(cookie, login.out.find('\n', cookie) - cookie);
  CHECK(line.find("; Secure") != std::string::npos);
  CHECK(line.find("HttpOnly") != std::string::npos);
}

TEST_CASE("the server refuses to start with a key that is not the certificate's", "[e2e][tls]") {
  Pki pki;
  const auto result = run_process({test_support::sync_server_binary(), "serve", "--db", pki.dir.file("s.db"), "--listen",
                                   "127.0.0.1:0", "--tls-cert", pki.cert, "--tls-key", pki.other_key},
                                  test_support::ProcessOptions{.deadline = std::chrono::seconds(10)});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("cannot use the TLS key") != std::string::npos);  // names the file and the mismatch
}

TEST_CASE("TLS 1.2 clients offering only weak suites are refused, and HTTPS answers carry HSTS", "[e2e][tls]") {
  Pki pki;
  test_support::ServerProcess server({"--tls-cert", pki.cert, "--tls-key", pki.key});
  server.start();
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  const auto s_client = [&](const char* ciphers) {
    return run_process({"/usr/bin/openssl", "s_client", "-tls1_2", "-cipher", ciphers, "-connect", address, "-CAfile",
                        pki.ca, "-verify_return_error"},
                       test_support::ProcessOptions{.deadline = std::chrono::seconds(10), .input = "Q\n"});
  };
  SECTION("no forward secrecy or no AEAD: no handshake") {
    for (const char* weak : {"AES128-SHA@SECLEVEL=0", "AES256-GCM-SHA384@SECLEVEL=0", "ECDHE-RSA-AES128-SHA@SECLEVEL=0",
                             "DES-CBC3-SHA@SECLEVEL=0"}) {
      INFO(weak);
      CHECK(s_client(weak).exit_code != 0);
    }
  }
  SECTION("a client with ECDHE and AES-GCM is served") {
    const auto modern = s_client("ECDHE-RSA-AES128-GCM-SHA256");
    INFO(modern.err);
    CHECK(modern.exit_code == 0);
    CHECK(modern.out.find("ECDHE-RSA-AES128-GCM-SHA256") != std::string::npos);
  }
  SECTION("Strict-Transport-Security on pages, the API and errors") {
    for (const char* target : {"/healthz", "/api/v1/stats", "/no/such/page"}) {
      const auto reply = run_process({"/usr/bin/curl", "-s", "-i", "--cacert", pki.ca, "https://" + address + target});
      INFO(target << reply.out << reply.err);
      REQUIRE(reply.exit_code == 0);
      CHECK(reply.out.find("Strict-Transport-Security: max-age=31536000") != std::string::npos);
    }
  }
}

TEST_CASE("plaintext HTTP on loopback sends no HSTS", "[e2e][tls]") {
  test_support::ServerProcess server;
  server.start();
  const auto reply = test_support::http_get(server.port(), "/healthz");
  REQUIRE(reply.status == 200);
  CHECK(reply.header("strict-transport-security").empty());
}

TEST_CASE("the server serves plaintext beyond loopback only when told --allow-plaintext", "[e2e][tls]") {
  // 192.0.2.1 (TEST-NET-1) is on no interface here: binding it fails, so nothing is ever
  // exposed, and whether the refusal comes before binding shows in the message.
  test_support::TempDir dir;
  const auto serve = [&](const std::string& listen, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {test_support::sync_server_binary(), "serve", "--db", dir.file("s.db"), "--listen", listen};
    args.insert(args.end(), more.begin(), more.end());
    return run_process(args, test_support::ProcessOptions{.deadline = std::chrono::seconds(10)});
  };
  SECTION("refused, naming the flag and the ways out") {
    for (const char* listen : {"192.0.2.1:0", "0.0.0.0:0", "[::]:0"}) {
      const auto refused = serve(listen);
      INFO(listen << refused.err);
      CHECK(refused.exit_code == 2);
      CHECK(refused.err.find("not loopback") != std::string::npos);
      CHECK(refused.err.find("--allow-plaintext") != std::string::npos);
      CHECK(refused.err.find("--tls-cert") != std::string::npos);
      CHECK(refused.out.find("listening on") == std::string::npos);
    }
  }
  SECTION("--allow-plaintext lets it try the address") {
    const auto allowed = serve("192.0.2.1:0", {"--allow-plaintext"});
    INFO(allowed.err);
    CHECK(allowed.exit_code == 1);
    CHECK(allowed.err.find("cannot listen on 192.0.2.1:0") != std::string::npos);
  }
  SECTION("a certificate is enough") {
    Pki pki;
    const auto with_tls = serve("192.0.2.1:0", {"--tls-cert", pki.cert, "--tls-key", pki.key});
    INFO(with_tls.err);
    CHECK(with_tls.err.find("cannot listen on 192.0.2.1:0") != std::string::npos);
  }
}
