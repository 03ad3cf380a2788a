/*
 * record_and_sync: a native app's use of the field client's C API (field_client.h).
 *
 *   record_and_sync STORE [SERVER_URL TOKEN DEVICE_ID]
 *
 * Records a household and a visit offline, shows how an invalid record is refused (with the
 * field at fault), lists what waits to sync, and — given a server, a token and the device id
 * it was enrolled under — enrols and syncs. One line of output per step:
 *   "<step> <fc_status> <JSON>". All data is fictional.
 */
#include <stdio.h>
#include <string.h>

#include "field_client/field_client.h"

static int report(const char* step, fc_status status, const char* json) {
  printf("%s %d %s\n", step, (int)status, json != NULL ? json : "null");
  return status == FC_OK;
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 5) {
    fprintf(stderr, "usage: %s STORE [SERVER_URL TOKEN DEVICE_ID]\n", argv[0]);
    return 2;
  }

  fc_store* store = NULL;
  char* error = NULL;
  fc_status status = fc_open(argv[1], &store, &error);
  if (status != FC_OK) {
    report("open", status, error);
    fc_free(error);
    return 1;
  }

  /* The device id must be taken before anything is recorded. */
  if (argc == 5) {
    status = fc_enroll(store, argv[2], argv[3], argv[4]);
    report("enroll", status, fc_last_error(store));
  }

  char* household_id = NULL;
  status = fc_create(store, "household",
                     "{\"address\":\"5 Example Walk\",\"postcode\":\"wd6 2ab\",\"ward\":\"Elstree\"}", &household_id);
  report("household", status, household_id);

  char visit[512];
  snprintf(visit, sizeof visit,
           "{\"household_id\":\"%s\",\"visited_at\":\"2026-11-26T10:15:00Z\",\"status\":\"completed\","
           "\"fire_safety_check\":true,\"smoke_detectors_fitted\":2,\"notes\":\"Fictional example.\"}",
           household_id != NULL ? household_id : "");
  char* visit_id = NULL;
  status = fc_create(store, "visit", visit, &visit_id);
  report("visit", status, visit_id);

  /* An invalid visit: a no_answer visit cannot have fitted smoke detectors. Nothing is written. */
  snprintf(visit, sizeof visit,
           "{\"household_id\":\"%s\",\"visited_at\":\"2026-11-26T10:30:00Z\",\"status\":\"no_answer\","
           "\"smoke_detectors_fitted\":1}",
           household_id != NULL ? household_id : "");
  char* refused_id = NULL;
  status = fc_create(store, "visit", visit, &refused_id);
  report("invalid", status, fc_last_error(store));

  char* outbox = NULL;
  status = fc_outbox(store, &outbox);
  report("outbox", status, outbox);
  fc_free(outbox);

  int exit_code = 0;
  if (argc == 5) {
    char* sync_report = NULL;
    status = fc_sync(store, 10000, &sync_report);
    report("sync", status, status == FC_OK ? sync_report : fc_last_error(store));
    if (status != FC_OK) exit_code = 1;
    fc_free(sync_report);
  }

  char* summary = NULL;
  status = fc_status_json(store, &summary);
  report("status", status, summary);
  fc_free(summary);

  fc_free(household_id);
  fc_free(visit_id);
  fc_free(refused_id);
  fc_close(store);
  return exit_code;
}
