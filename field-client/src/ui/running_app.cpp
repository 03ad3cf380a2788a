#include "running_app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <cstdio>
#include <fstream>
#include <sstream>

namespace field_client::ui {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::string file_text(const RunningApp& app) { return "port=" + std::to_string(app.port) + "\nkey=" + app.key + "\n"; }

bool is_hex(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The token of a "launch_url" the running app gave, if it has the shape ours have.
std::optional<std::string> token_of(const std::string& body) {
  rapidjson::Document answer;
  answer.Parse(body.c_str());
  if (!answer.IsObject() || !answer.HasMember("launch_url") || !answer["launch_url"].IsString()) return std::nullopt;
  const std::string url = answer["launch_url"].GetString();
  const auto at = url.find("/?launch=");
  if (at == std::string::npos) return std::nullopt;
  auto token = url.substr(at + 9);
  if (!is_hex(token) || token.size() > 128) return std::nullopt;
  return token;
}

}  // namespace

std::string running_app_path(const std::string& store_path) { return store_path + ".app"; }

Result<std::unique_ptr<RunningAppFile>> RunningAppFile::publish(const std::string& store_path, RunningApp app) {
  const auto path = running_app_path(store_path);
  const auto temporary = path + ".tmp";
  const auto failed = [&](const char* what) {
    ::unlink(temporary.c_str());
    return Error{"storage", std::string("cannot write ") + path + " (" + what + "), which lets a second field-client app find this one",
                 "store"};
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return failed("open");
  const auto text = file_text(app);
  const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (::close(fd) != 0 || !written) return failed("write");
  if (::rename(temporary.c_str(), path.c_str()) != 0) return failed("rename");
  return std::unique_ptr<RunningAppFile>(new RunningAppFile(path, std::move(app)));
}

RunningAppFile::~RunningAppFile() {
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str() == file_text(app_)) ::unlink(path_.c_str());
}

std::optional<RunningApp> read_running_app(const std::string& store_path) {
  std::ifstream in(running_app_path(store_path));
  std::string port_line, key_line;
  if (!std::getline(in, port_line) || !std::getline(in, key_line)) return std::nullopt;
  if (port_line.rfind("port=", 0) != 0 || key_line.rfind("key=", 0) != 0) return std::nullopt;
  const auto port_text = port_line.substr(5);
  if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int port = std::stoi(port_text);
  if (port < 1 || port > 65535 || !is_hex(key_line.substr(4))) return std::nullopt;
  return RunningApp{static_cast<unsigned short>(port), key_line.substr(4)};
}

std::optional<std::string> request_launch_url(const RunningApp& running, std::chrono::milliseconds deadline) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> request{http::verb::post, "/launch", 11};
  request.set(http::field::host, "127.0.0.1:" + std::to_string(running.port));
  request.set("X-Field-Client-Key", running.key);
  request.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(4096);
  bool answered = false;

  stream.expires_after(deadline);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), running.port);
  stream.async_connect(endpoint, [&](beast::error_code ec) {
    if (ec) return;
    http::async_write(stream, request, [&](beast::error_code write_ec, std::size_t) {
      if (write_ec) return;
      http::async_read(stream, buffer, parser, [&](beast::error_code read_ec, std::size_t) { answered = !read_ec; });
    });
  });
  ioc.run();
  if (!answered) return std::nullopt;
  const auto& response = parser.get();
  if (response.result() != http::status::ok || response[http::field::server] != "field-client-ui") return std::nullopt;
  const auto token = token_of(response.body());
  if (!token) return std::nullopt;
  return "http://127.0.0.1:" + std::to_string(running.port) + "/?launch=" + *token;
}

}  // namespace field_client::ui
