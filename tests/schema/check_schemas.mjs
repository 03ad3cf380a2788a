// Checks schemas/ with ajv (JSON Schema 2020-12): every valid example passes, every invalid
// example is refused, and every message the C++ code produces (printed by the
// protocol_samples program given as argv[2]) validates against its schema.
//
// Usage: node check_schemas.mjs SCHEMAS_DIR PROTOCOL_SAMPLES_BINARY
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [schemasDir, samplesBinary] = process.argv.slice(2);
if (!schemasDir || !samplesBinary) {
  console.error('usage: node check_schemas.mjs SCHEMAS_DIR PROTOCOL_SAMPLES_BINARY');
  process.exit(2);
}

const base = 'https://safer-streets.example/schemas/v1/';
const ajv = new Ajv2020({ strict: true, allErrors: true, strictRequired: false });
addFormats(ajv);
for (const file of readdirSync(schemasDir).filter((f) => f.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(readFileSync(join(schemasDir, file), 'utf8')));
}
const validator = (schemaFile) => {
  const validate = ajv.getSchema(base + schemaFile);
  if (!validate) throw new Error(`no schema ${schemaFile}`);
  return validate;
};

let failures = 0;
let checks = 0;
const fail = (what) => {
  failures += 1;
  console.error(`FAIL ${what}`);
};

// 1. Examples.
const examplesDir = join(schemasDir, 'examples');
for (const file of readdirSync(examplesDir).filter((f) => f.endsWith('.examples.json'))) {
  const examples = JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));
  const validate = validator(examples.schema);
  examples.valid.forEach((example, i) => {
    checks += 1;
    if (!validate(example)) fail(`${file} valid[${i}] refused: ${ajv.errorsText(validate.errors)}`);
  });
  examples.invalid.forEach((entry, i) => {
    checks += 1;
    const accepted = validate(entry.example);
    if (entry.schema_cannot_check) {
      // Documented gap: a rule JSON Schema cannot express (checked by C++ alone).
      if (!accepted) fail(`${file} invalid[${i}] (${entry.why}) is marked schema_cannot_check but was refused`);
    } else if (accepted) {
      fail(`${file} invalid[${i}] (${entry.why}) was accepted`);
    }
  });
}

// A push of 1001 changes is one over the limit.
{
  checks += 1;
  const change = { seq: 1, entity: 'visit', op: 'delete', id: '0192f5e4-7c1b-7000-8000-000000000001', hlc: '001764149400000-00000' };
  const push = { type: 'push', changes: Array.from({ length: 1001 }, (_, i) => ({ ...change, seq: i + 1 })) };
  if (validator('push.schema.json')(push)) fail('a push of 1001 changes was accepted');
  push.changes.pop();
  checks += 1;
  if (!validator('push.schema.json')(push)) fail('a push of 1000 changes was refused');
}

// 2. What the C++ code produces.
const samples = execFileSync(resolve(samplesBinary), { encoding: 'utf8', timeout: 30000 });
const kinds = new Set();
for (const line of samples.split('\n').filter(Boolean)) {
  const tab = line.indexOf('\t');
  const schemaFile = line.slice(0, tab);
  const text = line.slice(tab + 1);
  checks += 1;
  kinds.add(schemaFile);
  let message;
  try {
    message = JSON.parse(text);
  } catch (e) {
    fail(`C++ produced text that is not JSON for ${schemaFile}: ${e.message}`);
    continue;
  }
  if (/"(value0|ptr_wrapper|nullopt|cereal_class_version)"/.test(text)) fail(`C++ output for ${schemaFile} has a cereal wrapper name: ${text}`);
  const validate = validator(schemaFile);
  if (!validate(message)) fail(`C++ output refused by ${schemaFile}: ${ajv.errorsText(validate.errors)}\n  ${text}`);
}
for (const expected of ['hello', 'welcome', 'push', 'ack', 'pull', 'changes', 'error', 'stats', 'household', 'visit', 'commute_session']) {
  checks += 1;
  if (!kinds.has(`${expected}.schema.json`)) fail(`protocol_samples printed no ${expected} message`);
}

console.log(`${checks} schema checks, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
