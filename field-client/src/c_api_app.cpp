// fc_app_* of field_client.h: the tablet app's local server (ui::AppServer) on a thread of
// its own, for a native WebView shell. No exception crosses into C.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "field_client/field_client.h"
#include "safer/error_codes.h"
#include "ui/ui_server.h"

// Constant after fc_app_start: server's port, key and `address`; the thread runs server.run().
struct fc_app {
  std::unique_ptr<field_client::ui::AppServer> server;
  std::string address;
  std::thread serving;
};

namespace {

char* copy_text(const std::string& text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

fc_status start_failed(char** error_out, fc_status status, const std::string& message) {
  if (error_out != nullptr) *error_out = copy_text(message);
  return status;
}

}  // namespace

extern "C" {

fc_status fc_app_start(const char* store_path, unsigned short port, fc_app** app_out, char** error_out) {
  if (app_out != nullptr) *app_out = nullptr;
  if (error_out != nullptr) *error_out = nullptr;
  if (store_path == nullptr || app_out == nullptr) return FC_ARGUMENT;
  try {
    field_client::ui::UiOptions options;
    options.store_path = store_path;
    options.port = port;
    auto app = std::make_unique<fc_app>();
    app->server = std::make_unique<field_client::ui::AppServer>(options);
    if (auto started = app->server->start(); !started) {
      return start_failed(error_out, fc_status_of(started.error().code.c_str()), started.error().message);
    }
    app->address = app->server->address();
    app->serving = std::thread([server = app->server.get()] { server->run(); });
    *app_out = app.release();
    return FC_OK;
  } catch (const std::exception& failure) {
    return start_failed(error_out, FC_STORAGE, std::string("unexpected failure starting the app: ") + failure.what());
  } catch (...) {
    return start_failed(error_out, FC_STORAGE, "unexpected failure starting the app");
  }
}

const char* fc_app_address(const fc_app* app) { return app == nullptr ? "" : app->address.c_str(); }

const char* fc_app_key(const fc_app* app) { return app == nullptr ? "" : app->server->key().c_str(); }

fc_status fc_app_launch_url(fc_app* app, char** url_out) {
  if (url_out != nullptr) *url_out = nullptr;
  if (app == nullptr || url_out == nullptr) return FC_ARGUMENT;
  try {
    *url_out = copy_text(app->server->launch_url());
    return *url_out == nullptr ? FC_STORAGE : FC_OK;
  } catch (...) {
    return FC_STORAGE;  // no random bytes for the token
  }
}

void fc_app_stop(fc_app* app) {
  if (app == nullptr) return;
  app->server->stop();
  if (app->serving.joinable()) app->serving.join();
  delete app;
}

}  // extern "C"
