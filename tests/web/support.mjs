// support.mjs — helpers for the browser tests: the real sync-server and field-client binaries
// (run with timeouts), the coordinator JSON API from Node, headless Chromium through
// playwright-core, and a strict RFC 4180 CSV parser.
//
// Everything runs on 127.0.0.1 with fictional data in a fresh temporary directory.

import { spawn, spawnSync, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer as createNetServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

/** The web toolkit's one table of words: shared/web/labels.js in this repository. */
export const LABELS = await import(pathToFileURL(join(repo, 'shared', 'web', 'labels.js')).href);

export const CHROMIUM = '/usr/bin/chromium';
export const SYNC_SERVER = process.env.SYNC_SERVER || join(repo, 'build/dev/sync-server/sync-server');
export const FIELD_CLIENT = process.env.FIELD_CLIENT || join(repo, 'build/dev/field-client/field-client');
export const ARTIFACTS_DIR = process.env.ARTIFACTS_DIR || join(tmpdir(), 'safer-streets-web-artifacts');

/** Milliseconds for each child process (one command) and each wait in the browser. */
export const COMMAND_TIMEOUT_MS = 20_000;
export const WAIT_MS = 10_000;

export function makeTempDir(prefix = 'safer-streets-web-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir) {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function ensureDir(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Fails early, with what to do, when something the tests need is missing. */
export function checkPrerequisites() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install chromium (scripts/install-deps.sh)`);
  }
  for (const [name, path] of [['SYNC_SERVER', SYNC_SERVER], ['FIELD_CLIENT', FIELD_CLIENT]]) {
    if (!existsSync(path)) throw new Error(`${name} binary ${path} is missing: build the project first (cmake --build --preset dev)`);
  }
}

/** playwright-core's chromium, or a clear error when `npm ci` has not been run. */
export async function loadChromium() {
  try {
    const playwright = await import('playwright-core');
    return playwright.chromium;
  } catch (error) {
    throw new Error(`playwright-core is not installed: run \`npm ci\` in ${here} (${error.message})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes

function describe(bin, args) {
  return [bin.split('/').pop(), ...args].join(' ');
}

/**
 * Runs a command to its end (synchronously, with a timeout); throws unless it exits with 0.
 * Returns {stdout, stderr}. options.input is written to its standard input.
 */
export function run(bin, args, { input, timeout = COMMAND_TIMEOUT_MS, cwd } = {}) {
  const result = spawnSync(bin, args, {
    input: input ?? '', encoding: 'utf8', timeout, killSignal: 'SIGKILL', cwd,
  });
  if (result.error) throw new Error(`${describe(bin, args)}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${describe(bin, args)} exited with ${result.status ?? result.signal}\n` +
      `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return { stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs a command asynchronously (the event loop, and so the browser connection, stays live);
 * resolves with {code, stdout, stderr} whatever the exit code.
 */
export function runAsync(bin, args, { timeout = COMMAND_TIMEOUT_MS } = {}) {
  return new Promise((resolvePromise) => {
    execFile(bin, args, { encoding: 'utf8', timeout, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      let code = 0;
      if (error) code = typeof error.code === 'number' ? error.code : (error.signal || error.code || 'error');
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Like runAsync, but throws unless the command exits with 0. */
export async function runOk(bin, args, options) {
  const result = await runAsync(bin, args, options);
  if (result.code !== 0) {
    throw new Error(`${describe(bin, args)} exited with ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Deadlines

export const TIMED_OUT = Symbol('timed out');

/** Resolves with the promise's value, or TIMED_OUT after ms (the timer never outlives it). */
export async function withDeadline(promise, ms) {
  let timer;
  const deadline = new Promise((resolveDeadline) => { timer = setTimeout(() => resolveDeadline(TIMED_OUT), ms); });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The sync server

/**
 * Starts `sync-server serve --listen 127.0.0.1:0` and waits (with a deadline) for its first
 * line "listening on 127.0.0.1:PORT". Its standard error goes to logFile.
 * Returns {port, base, ws, pid, stop()}.
 */
export async function startServer(db, logFile, { deadlineMs = 15_000 } = {}) {
  const log = openSync(logFile, 'w');
  const child = spawn(SYNC_SERVER, ['serve', '--config', '', '--db', db, '--listen', '127.0.0.1:0', '--shutdown-grace', '2'], {
    stdio: ['ignore', 'pipe', log],
  });
  closeSync(log);

  const exited = new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });

  let port;
  try {
    port = await new Promise((resolvePort, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`sync-server did not say "listening on" within ${deadlineMs} ms (log: ${logFile})`)), deadlineMs);
      child.once('error', (error) => { clearTimeout(timer); reject(error); });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`sync-server exited (${code ?? signal}) before listening (log: ${logFile})`));
      });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        if (port !== undefined) return;
        buffered += chunk;
        const newline = buffered.indexOf('\n');
        if (newline === -1) return;
        const first = buffered.slice(0, newline).trim();
        const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(first);
        clearTimeout(timer);
        if (match) resolvePort(Number(match[1]));
        else reject(new Error(`unexpected first line from sync-server: ${JSON.stringify(first)}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Keep draining standard output so that the server never blocks on a full pipe.
  child.stdout.resume();

  const pid = child.pid;
  // If this process ends without stop() (a crash, an uncaught error), do not leave the server.
  const killOnExit = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } };
  process.once('exit', killOnExit);

  async function stop({ graceMs = 5_000 } = {}) {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, 'SIGTERM');
    if ((await withDeadline(exited, graceMs)) === TIMED_OUT) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      await withDeadline(exited, 2_000);
    }
  }

  return { port, base: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, pid, stop };
}

// ---------------------------------------------------------------------------------------------
// The JSON API from Node (coordinator bearer token: no CSRF token needed)

export async function api(base, token, path, { method = 'GET', json, text, contentType, headers = {} } = {}) {
  const allHeaders = { Accept: 'application/json', ...headers };
  if (token) allHeaders.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    allHeaders['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (text !== undefined) {
    allHeaders['Content-Type'] = contentType || 'text/plain';
    body = text;
  }
  const response = await fetch(base + path, { method, headers: allHeaders, body, signal: AbortSignal.timeout(WAIT_MS) });
  const raw = await response.text();
  let data = null;
  if ((response.headers.get('content-type') || '').includes('json') && raw !== '') data = JSON.parse(raw);
  return { status: response.status, data, raw, headers: response.headers };
}

/** GET that must answer 200; resolves with the parsed JSON. */
export async function apiGet(base, token, path) {
  const result = await api(base, token, path);
  if (result.status !== 200) throw new Error(`GET ${path}: ${result.status} ${result.raw}`);
  return result.data;
}

// ---------------------------------------------------------------------------------------------
// Chromium

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Launches Debian's Chromium headless (a fresh profile: playwright's launch() makes one). */
export async function launchBrowser() {
  const chromium = await loadChromium();
  return chromium.launch({
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000,
  });
}

/**
 * A new context and page at 1280 wide, with default timeouts, collecting uncaught page errors
 * and Content-Security-Policy violations (the dashboard should cause neither).
 */
export async function newPage(browser) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London',
    reducedMotion: 'reduce', acceptDownloads: true,
  });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      problems.push(`CSP violation: ${message.text()}`);
    }
  });
  return { context, page, problems };
}

/** Closes a page of newPage(), which must have seen no uncaught error and no CSP violation. */
export async function closePage({ context, problems }) {
  await withDeadline(context.close(), 10_000);
  if (problems.length) throw new Error(`the page had problems:\n${problems.join('\n')}`);
}

/** A new page of the dashboard at `hash`, signed in as `username`. */
export async function signedInDashboard(browser, base, hash, username, password) {
  const opened = await newPage(browser);
  const { page } = opened;
  await page.goto(`${base}/dashboard/${hash}`);
  await page.getByTestId('login-username').fill(username, { timeout: WAIT_MS });
  await page.getByTestId('login-password').fill(password, { timeout: WAIT_MS });
  await page.getByTestId('login-submit').click({ timeout: WAIT_MS });
  await page.locator('#site-nav').waitFor({ state: 'visible', timeout: WAIT_MS });
  return opened;
}

/**
 * The after() of a browser test file: closes the browser, stops the processes (by pid) and the server, removes the
 * directory — each even when an earlier one failed — and says how long the file took.
 */
export async function tearDown({ browser, server, processes = [], dir, name, startedAt }) {
  try {
    if (browser) await withDeadline(browser.close(), 10_000);
  } finally {
    try {
      for (const started of processes) await started.stop();
      if (server) await server.stop();
    } finally {
      if (dir) removeDir(dir);
      console.log(`${name} took ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 4180

/**
 * Parses RFC 4180 CSV strictly: records end with CRLF (the last one may end without), quoted
 * fields may hold commas, CRLF and doubled quotes. Returns an array of records (arrays of
 * strings). Throws on a bare LF or CR outside quotes, a quote inside an unquoted field, text
 * after a closing quote, or an unclosed quote.
 */
export function parseCsv(text) {
  const records = [];
  let record = [];
  let field = '';
  let i = 0;
  let quoted = false; // the current field started with a quote
  let fieldStarted = false;
  const endField = () => { record.push(field); field = ''; quoted = false; fieldStarted = false; };
  const endRecord = () => { endField(); records.push(record); record = []; };

  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        // closing quote: a separator, a record end or the end must follow
        i += 1;
        const next = text[i];
        if (next === ',') { endField(); i += 1; continue; }
        if (next === '\r' && text[i + 1] === '\n') { endRecord(); i += 2; continue; }
        if (next === undefined) { endRecord(); break; }
        throw new Error(`CSV: text after a closing quote at offset ${i}`);
      }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"') {
      if (fieldStarted) throw new Error(`CSV: quote inside an unquoted field at offset ${i}`);
      quoted = true;
      fieldStarted = true;
      i += 1;
      continue;
    }
    if (c === ',') { endField(); i += 1; continue; }
    if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CSV: bare CR at offset ${i}`);
      endRecord();
      i += 2;
      continue;
    }
    if (c === '\n') throw new Error(`CSV: bare LF (not CRLF) at offset ${i}`);
    field += c;
    fieldStarted = true;
    i += 1;
  }
  if (quoted) throw new Error('CSV: a quoted field is not closed');
  if (fieldStarted || record.length > 0) endRecord();
  return records;
}

/** Writes a CSV field as RFC 4180 wants (quotes when needed). */
export function csvField(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvText(rows) {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------
// Added for the tablet app's tests (tablet.test.mjs): any child process whose first line of
// standard output says where it listens, the sync server on a chosen port, `field-client ui`,
// a free port, raw HTTP with any Host header, polling from Node, and pages at a given viewport.

/**
 * Starts bin with args and waits (with a deadline) for its first line of standard output,
 * which must match firstLine (a RegExp). Standard error goes to logFile. Standard output keeps
 * being drained. Resolves with {match, pid, child, exited, stop({graceMs})}: stop() sends
 * SIGTERM to that pid, then SIGKILL if it has not exited within graceMs; it may be called
 * more than once. If this Node process exits first, the child is killed by its pid.
 */
export async function startProcess(bin, args, { logFile, firstLine, deadlineMs = 15_000, name } = {}) {
  const label = name || bin.split('/').pop();
  const log = openSync(logFile, 'w');
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', log] });
  closeSync(log);

  const exited = new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });

  let match;
  try {
    match = await new Promise((resolveLine, reject) => {
      let buffered = '';
      let done = false;
      const finish = (fn, value) => { if (!done) { done = true; clearTimeout(timer); fn(value); } };
      const timer = setTimeout(() => finish(reject, new Error(
        `${label} did not print its first line within ${deadlineMs} ms (log: ${logFile})`)), deadlineMs);
      child.once('error', (error) => finish(reject, error));
      child.once('exit', (code, signal) => finish(reject, new Error(
        `${label} exited (${code ?? signal}) before its first line (log: ${logFile})`)));
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk) => {
        if (done) return;
        buffered += chunk;
        const newline = buffered.indexOf('\n');
        if (newline === -1) return;
        const first = buffered.slice(0, newline).trim();
        const found = firstLine.exec(first);
        if (found) finish(resolveLine, found);
        else finish(reject, new Error(`unexpected first line from ${label}: ${JSON.stringify(first)}`));
      });
    });
  } catch (error) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    throw error;
  }
  child.stdout.resume();

  const pid = child.pid;
  const killOnExit = () => { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } };
  process.once('exit', killOnExit);

  async function stop({ graceMs = 5_000 } = {}) {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
    if ((await withDeadline(exited, graceMs)) === TIMED_OUT) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      await withDeadline(exited, 2_000);
    }
  }

  return { match, pid, child, exited, stop };
}

/**
 * Starts `sync-server serve --db DB --listen LISTEN` (e.g. "127.0.0.1:43123", a port chosen
 * beforehand) and waits for "listening on 127.0.0.1:PORT".
 * Returns {port, base, ws, pid, stop()} like startServer.
 */
export async function startServerOn(db, logFile, listen, { deadlineMs = 15_000 } = {}) {
  const started = await startProcess(SYNC_SERVER,
    ['serve', '--config', '', '--db', db, '--listen', listen, '--shutdown-grace', '2'],
    { logFile, firstLine: /^listening on 127\.0\.0\.1:(\d+)$/, deadlineMs, name: 'sync-server' });
  const port = Number(started.match[1]);
  return { port, base: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, pid: started.pid, stop: started.stop };
}

/**
 * Starts `field-client --store STORE ui --port 0 [extraArgs…]` and waits for its first line
 * "field-client ui: open http://127.0.0.1:PORT/?key=KEY".
 * Returns {port, key, base ("http://127.0.0.1:PORT"), url (the launch address), pid, stop()}.
 */
export async function startTabletUi(store, logFile, extraArgs = [], { deadlineMs = 15_000 } = {}) {
  const started = await startProcess(FIELD_CLIENT, ['--store', store, 'ui', '--port', '0', ...extraArgs], {
    logFile, firstLine: /^field-client ui: open (http:\/\/127\.0\.0\.1:(\d+)\/\?key=([0-9a-f]+))$/, deadlineMs,
    name: 'field-client ui',
  });
  const [, url, port, key] = started.match;
  return { port: Number(port), key, base: `http://127.0.0.1:${port}`, url, pid: started.pid, stop: started.stop };
}

/** A port on 127.0.0.1 that was free a moment ago: bound with port 0, noted, and closed. */
export function reservePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createNetServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = probe.address();
      probe.close((error) => (error ? reject(error) : resolvePort(port)));
    });
  });
}

/**
 * One HTTP request to 127.0.0.1:port with exactly the headers given (a Host header of your
 * choice included, which fetch() would not send). Resolves with {status, headers, body}.
 */
export function rawHttp(port, path, { method = 'GET', headers = {}, body, timeout = WAIT_MS } = {}) {
  return new Promise((resolveResponse, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method, headers, timeout, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolveResponse({ status: response.statusCode, headers: response.headers, body: text }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer within ${timeout} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * Calls check() every intervalMs until it returns something truthy (resolves with it), or
 * throws after timeoutMs with `what` and the last value seen.
 */
export async function waitUntil(check, { timeoutMs = WAIT_MS, intervalMs = 200, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await new Promise((resolveSleep) => { setTimeout(resolveSleep, intervalMs); });
  }
}

/**
 * Like newPage, at the given viewport ({width, height}) with touch, collecting uncaught page
 * errors and Content-Security-Policy violations.
 */
export async function newPageAt(browser, viewport, { hasTouch = true } = {}) {
  const context = await browser.newContext({
    viewport, screen: viewport, hasTouch, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/London',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      problems.push(`CSP violation: ${message.text()}`);
    }
  });
  return { context, page, problems };
}

// ---------------------------------------------------------------------------------------------
// A minimal sync-protocol client over a raw WebSocket (Node 20 has none; RFC 6455: masked text
// frames out; text, ping and close in), so that a test can send exactly the JSON a given kind
// of tablet would (protocol.md §2, §3) — with or without the `share_basis` capability —
// whatever the field-client binary sends. Used by tests 11 of dashboard.test.mjs and
// tablet.test.mjs.

/** One WebSocket frame from the client: FIN, the opcode, a random mask (RFC 6455 §5.3). */
function clientFrame(opcode, payload) {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : Buffer.alloc(length < 65536 ? 4 : 10);
  header[0] = 0x80 | opcode;
  if (length < 126) {
    header[1] = 0x80 | length;
  } else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i += 1) masked[i] ^= mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}

/**
 * Opens `GET /v1/sync` on wsBase ("ws://127.0.0.1:PORT") with the device's bearer token.
 * Resolves with {request(message), close()}: request() sends one JSON message and resolves with
 * the server's next message (the server answers in order, §2), or rejects after WAIT_MS or when
 * the connection closes. Rejects if the upgrade is refused (with its status).
 */
export function openSyncSocket(wsBase, token, { timeout = WAIT_MS } = {}) {
  const { hostname, port } = new URL(wsBase);
  const key = randomBytes(16).toString('base64');
  return new Promise((resolveSocket, reject) => {
    const request = httpRequest({
      host: hostname, port, path: '/v1/sync', agent: false, timeout,
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key,
        Authorization: `Bearer ${token}`,
      },
    });
    request.on('timeout', () => request.destroy(new Error(`no WebSocket upgrade within ${timeout} ms`)));
    request.on('error', reject);
    request.on('response', (response) => {
      response.resume();
      reject(new Error(`the WebSocket upgrade was refused: ${response.statusCode}`));
    });
    request.on('upgrade', (response, socket, head) => {
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (response.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        reject(new Error('the server answered the upgrade with a wrong Sec-WebSocket-Accept'));
        return;
      }
      resolveSocket(syncSocket(socket, head, timeout));
    });
    request.end();
  });
}

function syncSocket(socket, head, timeout) {
  let buffered = head;
  let fragments = [];
  const messages = [];
  const waiting = [];
  let closed = null;

  const deliver = (text) => {
    const message = JSON.parse(text);
    if (waiting.length) waiting.shift().resolve(message);
    else messages.push(message);
  };
  const fail = (error) => {
    closed = error;
    while (waiting.length) waiting.shift().reject(error);
  };

  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 2) return;
      const fin = (buffered[0] & 0x80) !== 0;
      const opcode = buffered[0] & 0x0f;
      const masked = (buffered[1] & 0x80) !== 0;
      let length = buffered[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      const maskKey = masked ? buffered.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (buffered.length < offset + length) return;
      const payload = Buffer.from(buffered.subarray(offset, offset + length));
      buffered = buffered.subarray(offset + length);
      if (maskKey) for (let i = 0; i < payload.length; i += 1) payload[i] ^= maskKey[i % 4];

      if (opcode === 0x9) {
        socket.write(clientFrame(0xa, payload)); // ping → pong
      } else if (opcode === 0x8) {
        fail(new Error(`the server closed the connection (${payload.length >= 2 ? payload.readUInt16BE(0) : 'no code'})`));
        socket.end();
      } else if (opcode === 0x1 || opcode === 0x0) {
        fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(fragments).toString('utf8');
          fragments = [];
          deliver(text);
        }
      }
    }
  });
  socket.on('error', (error) => fail(error));
  socket.on('close', () => fail(closed || new Error('the connection closed')));

  function next() {
    if (messages.length) return Promise.resolve(messages.shift());
    if (closed) return Promise.reject(closed);
    return new Promise((resolveMessage, reject) => {
      const entry = { resolve: resolveMessage, reject };
      waiting.push(entry);
      setTimeout(() => {
        const index = waiting.indexOf(entry);
        if (index !== -1) {
          waiting.splice(index, 1);
          reject(new Error(`no answer from the server within ${timeout} ms`));
        }
      }, timeout).unref();
    });
  }

  return {
    request(message) {
      socket.write(clientFrame(0x1, Buffer.from(JSON.stringify(message), 'utf8')));
      return next();
    },
    close() {
      if (!socket.destroyed) {
        socket.write(clientFrame(0x8, Buffer.from([0x03, 0xe8]))); // 1000, normal closure
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }
    },
  };
}

/** An HLC (protocol.md §3.5) for the wall clock now, with the given counter. */
export function hlcNow(counter = 0) {
  return `${String(Date.now()).padStart(15, '0')}-${String(counter).padStart(5, '0')}`;
}

/**
 * One sync session of a device: hello (naming `capabilities`, none for a protocol-1 tablet),
 * then one push of visit upserts numbered from the welcome's acked_seq + 1. Resolves with the
 * ack; throws on anything but a welcome and an ack.
 */
export async function pushVisitsRaw(wsBase, token, deviceId, visitRecords, { capabilities } = {}) {
  const socket = await openSyncSocket(wsBase, token);
  try {
    const hello = { type: 'hello', protocol: 1, device_id: deviceId, app_version: 'web-tests' };
    if (capabilities) hello.capabilities = capabilities;
    const welcome = await socket.request(hello);
    if (welcome.type !== 'welcome') throw new Error(`hello answered with ${JSON.stringify(welcome)}`);
    const changes = visitRecords.map(({ id, ...data }, index) => ({
      seq: welcome.acked_seq + 1 + index, entity: 'visit', op: 'upsert', id, hlc: hlcNow(index), data,
    }));
    const ack = await socket.request({ type: 'push', changes });
    if (ack.type !== 'ack') throw new Error(`push answered with ${JSON.stringify(ack)}`);
    return ack;
  } finally {
    socket.close();
  }
}
