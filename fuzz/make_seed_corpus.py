#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora into fuzz/corpus/<target>/ (docs/FUZZING.md).

client_message_fuzzer: every example message of schemas/examples (hello, pull, push; valid and
invalid) and the valid example records, plus up to four invalid records of each kind (one per
field at fault), each example as its own file. http_request_fuzzer: a few requests written out
below. households_csv_fuzzer: the first 10 lines of scripts/demo/households.csv and variants.
Run it again after the examples change; it replaces the three directories.
"""
import json
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
MESSAGES = ["hello", "pull", "push"]
RECORDS = ["household", "visit", "commute_session"]
INVALID_RECORDS_EACH = 4


def fresh(target):
    directory = CORPUS / target
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def write(directory, name, data):
    (directory / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def client_messages():
    directory = fresh("client_message_fuzzer")
    for kind in MESSAGES + RECORDS:
        examples = json.loads((ROOT / "schemas" / "examples" / f"{kind}.examples.json").read_text())
        for i, example in enumerate(examples["valid"], 1):
            write(directory, f"{kind}-valid-{i}.json", json.dumps(example, ensure_ascii=False))
        fields_seen = set()
        for i, case in enumerate(examples["invalid"], 1):
            if kind in RECORDS:
                if case["field"] in fields_seen or len(fields_seen) >= INVALID_RECORDS_EACH:
                    continue
                fields_seen.add(case["field"])
            write(directory, f"{kind}-invalid-{i}.json", json.dumps(case["example"], ensure_ascii=False))


def request(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:8080", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def http_requests():
    directory = fresh("http_request_fuzzer")
    bearer = "Authorization: Bearer TOKEN"
    session = ["Cookie: ss_session=SESSION", "X-CSRF-Token: CSRF", "Origin: http://127.0.0.1:8080"]
    csv = (ROOT / "scripts" / "demo" / "households.csv").read_bytes().split(b"\n")[:4]
    csv_body = b"\n".join(csv) + b"\n"
    requests = {
        "stats.http": request("GET", "/api/v1/stats?from=2026-04-01&to=2027-03-31", [bearer]),
        "login.http": request("POST", "/api/v1/session", ["Content-Type: application/json", "Origin: http://127.0.0.1:8080"],
                              b'{"username":"coordinator","password":"safer-streets-demo"}'),
        "login-cross-site.http": request("POST", "/api/v1/session", ["Content-Type: application/json", "Origin: http://evil.example"],
                                         b'{"username":"coordinator","password":"safer-streets-demo"}'),
        "session.http": request("GET", "/api/v1/session", session),
        "import.http": request("POST", "/api/v1/households/import", [bearer, "Content-Type: text/csv"], csv_body),
        "import-chunked.http": request("POST", "/api/v1/households/import", session + ["Transfer-Encoding: chunked"],
                                       f"{len(csv_body):x}\r\n".encode() + csv_body + b"\r\n0\r\n\r\n"),
        "websocket-upgrade.http": request("GET", "/v1/sync", [bearer, "Connection: Upgrade", "Upgrade: websocket",
                                                             "Sec-WebSocket-Version: 13",
                                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]),
        "assignment.http": request("POST", "/api/v1/households/0192f5e4-0000-7000-8000-000000000001/assignment",
                                   session + ["Content-Type: application/json"], b'{"assigned_to":"officer.ann"}'),
        "households-officer.http": request("GET", "/api/v1/households?ward=Elstree&q=example%20close&limit=5&offset=0",
                                           ["Authorization: Bearer OFFICER"]),
        "households-search.http": request("POST", "/api/v1/households/search", session + ["Content-Type: application/json"],
                                          b'{"q":"example close","ward":"Elstree","limit":5,"offset":0}'),
        "enroll-revoke.http": request("POST", "/api/v1/devices", [bearer, "Content-Type: application/json"],
                                      b'{"device_id":"tablet-9","user_id":"officer.bob","role":"pcso"}')
                              + request("POST", "/api/v1/devices/tablet-9/revoke", [bearer])
                              + request("GET", "/api/v1/devices/tablet-9/rejections", [bearer]),
        "pipelined.http": request("GET", "/healthz") + request("GET", "/api/v1/version", [bearer])
                          + request("GET", "/api/v1/report?year=2026", [bearer])
                          + request("GET", "/api/v1/exports/visits.csv?from=2026-04-01", [bearer])
                          + request("GET", "/dashboard/"),
        "worklists.http": request("GET", "/api/v1/worklists/unvisited?ward=Elstree", session)
                          + request("GET", "/api/v1/worklists/follow-ups", session)
                          + request("GET", "/api/v1/overview?from=2026-04-01&to=2026-04-30", session)
                          + request("GET", "/api/v1/activity", session),
    }
    for name, data in requests.items():
        write(directory, name, data)


def households_csv():
    directory = fresh("households_csv_fuzzer")
    lines = (ROOT / "scripts" / "demo" / "households.csv").read_text().split("\n")[:10]
    head = "\n".join(lines) + "\n"
    write(directory, "demo-10-lines.csv", head)
    write(directory, "demo-crlf.csv", head.replace("\n", "\r\n"))
    write(directory, "demo-bom.csv", "\ufeff" + head)
    write(directory, "quoted.csv", lines[0] + "\n"
          '0192f5e4-0000-7000-8000-000000000001,"Flat 2, 42 Sample Lane",WD25 7BD,Aldenham East,1,\n'
          ',"The ""Old"" Forge\nSample Lane",wd257bd,"Aldenham East",true,officer.ann\n'
          '"","1 Example Close",EN5 5XG,Bentley Heath & The Royds,false,""\n')
    write(directory, "quoted-crlf.csv", (lines[0] + "\r\n"
          '"0192f5e4-0000-7000-8000-000000000002","Flat 3, ""Madeup"" Mews",WD25 2QY,Aldenham East,0,\r\n'
          ',"14 Example\r\nClose",WD6 4QE,Borehamwood Brookmeadow,1,officer.ann\r\n'))
    write(directory, "problems.csv", lines[0] + "\n"
          "not-a-uuid,42 Sample Lane,WD25 7BD,Aldenham East,1,\n"
          ",,XX1 1XX,Nowhere,maybe,bad user\n"
          "0192f5e4-0000-7000-8000-000000000001,42 Sample Lane,WD25 7BD,Aldenham East,1\n"
          '0192f5e4-0000-7000-8000-000000000001,"unterminated\n')
    write(directory, "header-only.csv", lines[0] + "\n")


if __name__ == "__main__":
    client_messages()
    http_requests()
    households_csv()
    for target in sorted(CORPUS.iterdir()):
        files = list(target.iterdir())
        print(f"{target.name}: {len(files)} files, {sum(f.stat().st_size for f in files)} bytes")
