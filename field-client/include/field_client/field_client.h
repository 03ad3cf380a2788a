/*
 * field_client.h — the field client's core as a C API, for native tablet apps (Android through
 * JNI, iOS through Swift or Objective-C) that embed the same store and sync as field-client.
 *
 * Records go in and come out as the plain JSON of the sync protocol (protocol.md §5): the `data` object
 * of a household, a visit or a commute session. Everything is offline except fc_sync().
 *
 * Errors: every function returns FC_OK (0) or an fc_status. After a failure on a store,
 * fc_last_error() gives the details as JSON: {"code", "message", "field", "errors": [{"field",
 * "message"}], "retryable"}; "errors" lists every problem of an invalid record. fc_open()
 * reports its own failure through `error_out`. Reads fail like writes: a store that cannot be
 * read gives FC_STORAGE, never a crash. Codes, their status and whether to retry come from one
 * table shared with the command line, the tablet app and the server (shared/include/safer/
 * error_codes.h; docs/field-client.md, "Error codes"): fc_should_retry() says which statuses
 * are worth retrying later.
 *
 * Ownership: a `char**` out-parameter receives a new NUL-terminated UTF-8 string that the
 * caller owns and must release with fc_free(); it is set to NULL on failure. The string from
 * fc_last_error() and fc_version() is owned by the library: valid until the next call on the
 * same store (fc_version: forever). Input strings are only read during the call.
 *
 * Threads: a store may be used from one thread at a time. Two stores (in one process or two)
 * may share a file; SQLite serialises their writes.
 */
#ifndef FIELD_CLIENT_FIELD_CLIENT_H_
#define FIELD_CLIENT_FIELD_CLIENT_H_

#if defined(FC_BUILDING_LIBRARY)
#define FC_API __attribute__((visibility("default")))
#else
#define FC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fc_store fc_store;
typedef struct fc_app fc_app;

typedef enum fc_status {
  FC_OK = 0,
  FC_INVALID = 1,       /* the record or an argument breaks a rule; see "errors" */
  FC_NOT_FOUND = 2,     /* no such record */
  FC_FORBIDDEN = 3,     /* not allowed for this device's role */
  FC_STORAGE = 4,       /* the store cannot be read or written now (full disk, read-only, busy, I/O error): retry later */
  FC_NETWORK = 5,       /* the server could not be reached or the exchange failed: retry later */
  FC_UNAUTHORIZED = 6,  /* the server refused the token (401): do not retry; re-enrol */
  FC_FATAL = 7,         /* do not retry, a person must act: the server refused this device for good
                           (device_mismatch, unsupported_protocol, lost), its certificate is not
                           trusted (untrusted_server), or the store is from a newer version */
  FC_NOT_ENROLLED = 8,  /* fc_sync() before fc_enroll() */
  FC_ARGUMENT = 9,      /* a NULL where a value is needed, an unknown entity name */
  FC_LOCKED = 10,       /* the store is encrypted and needs its PIN (code "locked"), the PIN was
                           wrong ("wrong_pin": the message says how many tries are left), or a
                           wait after wrong PINs is running ("pin_wait") */
  FC_WIPED = 11         /* the store was erased: too many wrong PINs ("wiped"), or a coordinator
                           ordered this device wiped ("wipe", from fc_sync). Enrol again. */
} fc_status;

/* The library's version, such as "0.1.0". */
FC_API const char* fc_version(void);

/* Opens (creating if needed) the plain store at `path`. On failure *store_out is NULL and, if
 * error_out is not NULL, *error_out receives a message to fc_free(). An encrypted store (one
 * with a PIN) gives FC_LOCKED: open it with fc_open_with_key. */
FC_API fc_status fc_open(const char* path, fc_store** store_out, char** error_out);

/* Opens the encrypted store at `path` with its PIN (or passphrase). The key is scrypt of the
 * PIN and the salt in "<path>.key" (about a third of a second: call it once per launch, not
 * on the UI thread). Wrong PINs are counted in "<path>.key" before the answer; after 3 each
 * makes the next try wait twice as long (from 30 s, at most an hour), and the one that
 * reaches the limit set with fc_set_pin (default 10) erases the store: FC_WIPED. Otherwise
 * a wrong PIN is FC_LOCKED with *error_out saying how many tries are left; the store itself
 * is never touched by a wrong PIN. A plain store gives FC_INVALID. */
FC_API fc_status fc_open_with_key(const char* path, const char* pin, fc_store** store_out, char** error_out);

/* Sets the PIN (6 to 128 characters; longer is much harder to guess offline) that is the
 * store's key: a plain store is encrypted by it (every page is rewritten), an encrypted one
 * re-encrypted under the new PIN. `max_attempts` (0: 10) wrong PINs in a row will erase the
 * store. Needs the only open handle on the store (FC_STORAGE, code "storage_busy", if
 * another is open). */
FC_API fc_status fc_set_pin(fc_store* store, const char* pin, int max_attempts);

/* Erases the store: every record, the outbox, the token and the key file (the database, its
 * -wal, -shm and -journal, "<path>.key"), and closes the handle's store: every later call on
 * it but fc_close gives FC_WIPED. fc_sync does this itself when the server says a
 * coordinator ordered the device wiped. Files are unlinked, not overwritten (on flash an
 * overwrite does not reach the old pages); what stays in free blocks of an encrypted store is
 * ciphertext whose key is gone. Still call fc_close. */
FC_API fc_status fc_wipe(fc_store* store);

/* Closes the store. NULL is allowed. */
FC_API void fc_close(fc_store* store);

/* Records a new record of `entity` ("household", "visit", "commute_session") from its JSON
 * data; *id_out receives its new id. Nothing is written unless it is valid. */
FC_API fc_status fc_create(fc_store* store, const char* entity, const char* data_json, char** id_out);

/* Replaces the whole record `id` with `data_json`. */
FC_API fc_status fc_update(fc_store* store, const char* entity, const char* id, const char* data_json);

/* Deletes record `id` (a tombstone is kept and synced). */
FC_API fc_status fc_delete(fc_store* store, const char* entity, const char* id);

/* Checks `data_json` as fc_create would, writing nothing; *errors_json_out receives
 * [{"field", "message"}, …] (empty when valid). Returns FC_OK either way unless the call
 * itself fails. */
FC_API fc_status fc_validate(fc_store* store, const char* entity, const char* data_json, char** errors_json_out);

/* The live records of `entity` as a JSON array of {"entity", "id", "hlc", "device_id",
 * "deleted", "state", "data"}; state is "pending", "rejected" or "synced". */
FC_API fc_status fc_list(fc_store* store, const char* entity, char** json_out);

/* One record by id (deleted ones too) as a JSON object; FC_NOT_FOUND if unknown. */
FC_API fc_status fc_get(fc_store* store, const char* entity, const char* id, char** json_out);

/* Changes waiting to sync and rejected ones, as a JSON array of {"seq", "entity", "op",
 * "id", "hlc", "state", "created_at", "data", "rejection": {"code", "message", "field"}}. */
FC_API fc_status fc_outbox(fc_store* store, char** json_out);

/* Discards the change `seq` that the server refused (state "rejected" in fc_outbox): its data
 * is dropped (its seq, id, code and message stay, state "discarded"). When it was the record's
 * latest change the record returns to the server's state: *result_out (may be NULL) receives
 * "record_removed" (the server never accepted the record: it is gone from the device),
 * "record_refetched" (the server holds it: the device's refused version is gone and the next
 * fc_sync pulls the scope afresh, bringing the server's version back), or "change_only" (a
 * later change of the record stands). FC_NOT_FOUND for no such change; FC_INVALID for one
 * that was not refused; FC_FORBIDDEN for a household the server never accepted while visits
 * to it are on the device (discard theirs first). */
FC_API fc_status fc_discard_rejected(fc_store* store, long long seq, char** result_out);

/* Keeps the server's URL (wss://host:port, or ws://host:port to 127.0.0.0/8, ::1 or localhost)
 * and this device's token. `device_id` may be NULL; otherwise the store takes that id (only
 * before anything is recorded). ws:// to any other host is FC_INVALID (field "server"). */
FC_API fc_status fc_enroll(fc_store* store, const char* server_url, const char* token, const char* device_id);

/* As fc_enroll, and allows ws:// to a host other than loopback: the token and the records
 * then cross the network unencrypted. For networks protected some other way only. */
FC_API fc_status fc_enroll_plaintext(fc_store* store, const char* server_url, const char* token, const char* device_id);

/* Pushes every waiting change and pulls what is new. *report_json_out (may be NULL) receives
 * {"pushed", "rejected", "pulled", "full_pull", "clock_offset_ms"}. `timeout_ms` bounds each
 * step (0: 15 seconds). When the server answers that a coordinator ordered this device wiped
 * (HTTP 410, code "wipe"), the store is erased as by fc_wipe and FC_WIPED returned: show the
 * officer fc_last_error()'s message and go back to enrolment. */
FC_API fc_status fc_sync(fc_store* store, int timeout_ms, char** report_json_out);

/* The device and its store: {"device_id", "server", "role", "user_id", "pending", "rejected",
 * "last_seq", "last_sync_at", "clock_offset_ms", "records": {"households", "visits",
 * "commute_sessions"}}. */
FC_API fc_status fc_status_json(fc_store* store, char** json_out);

/* 1 when a failure with `status` is worth retrying later without a person acting (FC_STORAGE,
 * FC_NETWORK), 0 otherwise. */
FC_API int fc_should_retry(fc_status status);

/* The status this library returns for an error code, the "code" of fc_last_error() (a code it
 * does not know counts as FC_NETWORK; NULL gives FC_ARGUMENT). */
FC_API fc_status fc_status_of(const char* code);

/* Details of the last failure on `store` (see above); "{}" after a success. */
FC_API const char* fc_last_error(const fc_store* store);

/* Releases a string this library returned through an out-parameter. NULL is allowed. */
FC_API void fc_free(char* text);

/* ---- The tablet app's local server, for a native shell (docs/tablet-app.md, "A native shell")
 *
 * A WebView shell on Android or iOS runs the same tablet app as `field-client app`: it calls
 * fc_app_start on launch, loads fc_app_launch_url's link in its WebView (never showing it), and
 * calls fc_app_stop when the app ends. The server runs on a thread of its own, on 127.0.0.1
 * only, with every rule of the local security (Host check, Origin check on writes, the key),
 * and the background sync runs inside it while the store is open. The store may be opened
 * with fc_open beside it (SQLite serialises the two); the app's own sync is enough.
 *
 * Threads: every fc_app_* call may come from any thread; fc_app_stop must be the last. */

/* Opens the store at `store_path` (a plain one at once; an encrypted one stays locked until the
 * PIN is given in the app) and serves the app on 127.0.0.1:`port` (0: any free port, the
 * usual choice for a shell). On failure *app_out is NULL and *error_out (if not NULL) receives
 * a message to fc_free(): FC_NETWORK when the port cannot be had (such as another app holding
 * it: the message says so), the store's own status when it cannot be opened (FC_STORAGE,
 * FC_FATAL), FC_ARGUMENT for a NULL. */
FC_API fc_status fc_app_start(const char* store_path, unsigned short port, fc_app** app_out, char** error_out);

/* "http://127.0.0.1:PORT", the app's origin. Owned by the library, valid until fc_app_stop. */
FC_API const char* fc_app_address(const fc_app* app);

/* The launch key (hex): sent as the header X-Field-Client-Key it lets the shell's own code
 * call the local API (docs/tablet-app.md). Owned by the library, valid until fc_app_stop. Keep
 * it out of logs and URLs. */
FC_API const char* fc_app_key(const fc_app* app);

/* *url_out receives a new link ("http://127.0.0.1:PORT/?launch=TOKEN", to fc_free()) that
 * opens the app once, within 60 seconds: it sets the app's cookie and redirects to /app/. Load
 * it in the WebView at once; ask for a new one to open the app again. FC_ARGUMENT for a NULL. */
FC_API fc_status fc_app_launch_url(fc_app* app, char** url_out);

/* Stops the server and the background sync, waits for them, closes the store and frees `app`.
 * NULL is allowed. */
FC_API void fc_app_stop(fc_app* app);

#ifdef __cplusplus
}
#endif

#endif /* FIELD_CLIENT_FIELD_CLIENT_H_ */
