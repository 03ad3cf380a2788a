// tap-queue.js — Commute Aware's per-session queues of taps and PUTs (page-commute.js).
//
// Never lose a tap: every tap and every PUT of a session goes into that session's queue and is
// sent one at a time, in order. The count on screen is the last count the service confirmed
// plus the taps still queued. A tap made while the app is PIN-locked waits for the PIN (api.js);
// one made while the local service is not answering is retried with back-off; one the service
// refuses is dropped, and the queue says why (queue.error). The queues live in this module, so
// leaving the page (or the tablet locking) does not drop them, and leaving the app while one is
// not empty asks first.
//
// Sessions end at local midnight: a tap on a session begun on an earlier day is refused with
// 409 "session_over" (the service has ended the session at its midnight). The queue then stops,
// takes out the taps not yet counted, and sets queue.over = {station, taps}: the page asks
// "Start today's session at <station>?" and, if so, counts those taps in the new session.
//
//   POST /api/commute/{id}/count      each tap {"delta": 1 | -1} → {id, cards_distributed}
//   PUT  /api/commute/{id}            the whole record (messages, ended_at, corrections)

import { postJson, putJson, path, ApiError } from './api.js';

/** The most card holders one session counts (a tap beyond 0..MAX_CARDS is not queued). */
export const MAX_CARDS = 5000;
const RETRY_MS = [1000, 2000, 4000, 8000, 10000];

/**
 * One session's queue: taps (+1 / −1) and PUTs of the whole record, sent one at a time in
 * the order they were made. Listeners hear every change (queued, sent, failed).
 */
export class SessionQueue {
  constructor(id, data) {
    this.id = id;
    this.data = { ...data };           // the record as last confirmed by the service
    this.ops = [];                      // [{kind: 'count', delta} | {kind: 'put', patch, resolve, reject}]
    this.running = false;
    this.listeners = new Set();
    this.error = '';
    this.retries = 0;
    this.over = null;                   // {station, taps: [delta, …]} once its day is over
  }

  queuedDelta() {
    return this.ops.reduce((sum, op) => sum + (op.kind === 'count' ? op.delta : 0), 0);
  }

  /** What the screen shows: the confirmed count plus the taps still on their way. */
  displayed() {
    return (Number(this.data.cards_distributed) || 0) + this.queuedDelta();
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  /** +1 / −1. Returns false when the tap is outside 0..5000 (then nothing is queued). */
  tap(delta) {
    const next = this.displayed() + delta;
    if (next < 0 || next > MAX_CARDS) return false;
    this.ops.push({ kind: 'count', delta });
    this.error = '';
    this.notify();
    this.pump();
    return true;
  }

  /** PUTs {...record, ...patch} after everything queued before it. Resolves with the record sent. */
  put(patch) {
    return new Promise((resolve, reject) => {
      this.ops.push({ kind: 'put', patch, resolve, reject });
      this.notify();
      this.pump();
    });
  }

  async pump() {
    if (this.running) return;
    this.running = true;
    while (this.ops.length) {
      const op = this.ops[0];
      try {
        if (op.kind === 'count') {
          const answer = await postJson(path('/api/commute', this.id, '/count'), { delta: op.delta });
          if (answer && Number.isInteger(answer.cards_distributed)) this.data.cards_distributed = answer.cards_distributed;
          else this.data.cards_distributed = (Number(this.data.cards_distributed) || 0) + op.delta;
          this.ops.shift();
        } else {
          const record = { ...this.data, ...op.patch };
          await putJson(path('/api/commute', this.id), record);
          this.data = record;
          this.ops.shift();
          op.resolve(record);
        }
        this.retries = 0;
        this.error = '';
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 409 && failure.body && failure.body.code === 'session_over') {
          this.endedAtMidnight(failure.body.station);
          break;
        }
        if (failure instanceof ApiError && failure.status === 0) {
          // The local service is not answering (restarting?): keep the op and try again.
          this.error = 'Not saved yet: the app’s service is not answering. Your taps are kept and will be saved when it is back.';
          this.notify();
          const wait = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
          this.retries += 1;
          await new Promise((resolve) => { window.setTimeout(resolve, wait); });
          continue;
        }
        // Refused (e.g. 400 out of range, 403, 404): this op cannot be saved; drop it, say why.
        this.ops.shift();
        this.error = op.kind === 'count' ? `A tap was not saved: ${failure.message}` : `Not saved: ${failure.message}`;
        if (op.kind === 'put') op.reject(failure);
      }
      this.notify();
    }
    this.running = false;
    this.notify();
  }

  /** Its day is over: every op still queued is taken out; the taps wait in `over` for the page. */
  endedAtMidnight(station) {
    const taps = this.ops.filter((op) => op.kind === 'count').map((op) => op.delta);
    for (const op of this.ops) if (op.kind === 'put') op.reject(new Error('this session was ended at midnight'));
    this.ops = [];
    this.over = { station: String(station || this.data.station || ''), taps };
    this.error = '';
  }
}

const queues = new Map(); // session id → SessionQueue

/**
 * The queue of session `id`, made on first use from `data` (the record as the store has it).
 * An idle queue takes `data` as the latest; a busy one keeps its own, which is newer.
 */
export function queueFor(id, data) {
  let queue = queues.get(id);
  if (!queue) {
    queue = new SessionQueue(id, data);
    queues.set(id, queue);
  } else if (!queue.ops.length && !queue.running && data) {
    queue.data = { ...data }; // nothing in flight: the store's copy is the latest
  }
  return queue;
}

/** True while any session has a tap or a PUT not yet saved. */
export const anyQueued = () => [...queues.values()].some((queue) => queue.ops.length > 0);

window.addEventListener('beforeunload', (event) => {
  if (anyQueued()) {
    event.preventDefault();
    event.returnValue = ''; // older browsers need this to ask "Leave the page?"
  }
});
