// labels.test.mjs — the tablet app and the dashboard say the same words for the same codes.
//
// Both apps used to carry their own label tables, and they drifted (one outcome had two
// names). Now one table, shared/web/labels.js, is served to both (at /app/common/ and
// /dashboard/common/). This test fails if either app gets a table or a label of its own again,
// or stops taking the shared one. No browser and no binaries: Node reads the files as they are.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LABELS as labels } from './support.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APPS = { tablet: join(repo, 'field-client/web'), dashboard: join(repo, 'sync-server/web') };

/** Every .js file of an app (its own folder only: node_modules and the shared files are not its). */
function appSources(dir) {
  return readdirSync(dir).filter((name) => name.endsWith('.js'))
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

const TABLES = [
  ['STATUSES', 'STATUS_LABELS'], ['OUTCOMES', 'OUTCOME_LABELS'], ['REFERRALS', 'REFERRAL_LABELS'],
  ['VULNERABILITIES', 'VULNERABILITY_LABELS'], ['MESSAGES', 'MESSAGE_LABELS'],
  ['SHARE_BASES', 'SHARE_BASIS_LABELS'],
];

test('the shared table has one label for every code, and no code without a label', () => {
  for (const [codes, table] of TABLES) {
    assert.deepEqual(Object.keys(labels[table]).sort(), [...labels[codes]].sort(), `${table} against ${codes}`);
    for (const code of labels[codes]) {
      assert.equal(typeof labels[table][code], 'string');
      assert.notEqual(labels[table][code].trim(), '', `${table}.${code} is empty`);
    }
  }
  assert.deepEqual(labels.YES_NO_OUTCOMES, labels.OUTCOMES.filter((code) => code !== 'smoke_detectors_fitted'));
  assert.equal(labels.label(labels.OUTCOME_LABELS, 'a_newer_code'), 'a_newer_code');
});

test('the words chosen when the two apps\' tables were merged stay chosen', () => {
  // The tablet said "Community information" and "Follow-up needed"; the dashboard said these.
  assert.equal(labels.OUTCOME_LABELS.community_involvement_info, 'Community involvement information');
  assert.equal(labels.OUTCOME_LABELS.follow_up_required, 'Follow-up required');
});

for (const [app, dir] of Object.entries(APPS)) {
  test(`the ${app} takes its labels from the shared table and has none of its own`, () => {
    const sources = appSources(dir);
    const dom = sources.find((file) => file.name === 'dom.js');
    assert.ok(dom, `${dir}/dom.js is missing`);
    assert.match(dom.text, /export \* from '\.\/common\/labels\.js';/, `${app}'s dom.js must re-export common/labels.js`);

    const words = new Set(TABLES.flatMap(([, table]) => Object.values(labels[table])).filter((word) => word !== 'Other'));
    for (const { name, text } of sources) {
      assert.doesNotMatch(text, /\b(STATUS|OUTCOME|REFERRAL|VULNERABILITY|MESSAGE|ROLE|ENTITY|STATE|SHARE_BASIS)_LABELS\s*=/,
        `${app}/${name} defines a label table of its own`);
      assert.doesNotMatch(text, /\b(STATUSES|OUTCOMES|REFERRALS|VULNERABILITIES|MESSAGES|SHARE_BASES)\s*=/,
        `${app}/${name} defines a list of codes of its own`);
      for (const word of words) {
        // A label written out by hand would drift from the table: use label(…_LABELS, code).
        assert.ok(!text.includes(`'${word}'`) && !text.includes(`"${word}"`),
          `${app}/${name} writes the label '${word}' by hand`);
      }
    }
  });
}
