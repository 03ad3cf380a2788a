/*
 * app_shell: what a native WebView shell does with the field client's C API (field_client.h,
 * docs/tablet-app.md "A native shell"), without the WebView: start the tablet app's local
 * server on launch, get the one-time link the WebView would load, and stop it on exit.
 *
 *   app_shell STORE
 *
 * Prints one line, "app <fc_status> ADDRESS KEY LAUNCH_URL <second start's fc_status> <its
 * error>", where the second start is on the same port (and must fail: the port is taken),
 * then serves until SIGINT or SIGTERM, stops and prints "stopped". A real shell keeps the key
 * out of any output: it is printed here so that a test can call the local API.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field_client/field_client.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s STORE\n", argv[0]);
    return 2;
  }
  /* Blocked before the app's threads start, so that only sigwait below receives them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, NULL);

  fc_app* app = NULL;
  char* error = NULL;
  fc_status status = fc_app_start(argv[1], 0, &app, &error);
  if (status != FC_OK) {
    printf("app %d %s\n", (int)status, error != NULL ? error : "");
    fc_free(error);
    return 1;
  }
  char* launch_url = NULL;
  fc_status launch_status = fc_app_launch_url(app, &launch_url);

  /* The same port again, as a second shell (or a stale one) would: refused, nothing started. */
  const char* address = fc_app_address(app);
  unsigned short port = (unsigned short)strtoul(strrchr(address, ':') + 1, NULL, 10);
  fc_app* second = NULL;
  char* second_error = NULL;
  fc_status second_status = fc_app_start(argv[1], port, &second, &second_error);

  printf("app %d %s %s %s %d %s\n", (int)launch_status, address, fc_app_key(app),
         launch_url != NULL ? launch_url : "-", (int)second_status, second_error != NULL ? second_error : "-");
  fflush(stdout);
  fc_free(launch_url);
  fc_free(second_error);
  fc_app_stop(second); /* NULL: nothing to stop */

  int received = 0;
  sigwait(&stop, &received);
  fc_app_stop(app);
  printf("stopped\n");
  return second_status != FC_OK && second == NULL ? 0 : 1;
}
