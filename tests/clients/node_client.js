// Warden test client in Node.js (@grpc/grpc-js + @grpc/proto-loader from npm).
// Usage: node node_client.js PROTO_ROOT TARGET CHECK...
// Exits non-zero with a message on the first failing check.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [protoRoot, target, ...checks] = process.argv.slice(2);
const definition = protoLoader.loadSync(path.join(protoRoot, 'proto/warden.proto'), {
  includeDirs: [protoRoot], keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true,
});
const v1 = grpc.loadPackageDefinition(definition).warden.v1;
const appKey = process.env.WARDEN_APP_KEY || 'warden-demo-key';
const adminKey = process.env.WARDEN_ADMIN_KEY || 'warden-demo-admin';
const warden = new v1.Warden(target, grpc.credentials.createInsecure());
const admin = new v1.Admin(target, grpc.credentials.createInsecure());

function auth(key) {
  const metadata = new grpc.Metadata();
  if (key) metadata.add('authorization', 'Bearer ' + key);
  return metadata;
}
function unary(client, method, request, key) {
  return new Promise((resolve, reject) => {
    client[method](request, auth(key), { deadline: Date.now() + 120000 }, (error, response) =>
      error ? reject(error) : resolve(response));
  });
}
async function expectCode(promise, code, what) {
  try {
    await promise;
  } catch (error) {
    if (error.code !== code) throw new Error(`${what}: expected code ${code}, got ${error.code}: ${error.details}`);
    return;
  }
  throw new Error(`${what}: expected code ${code}, call succeeded`);
}
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const CHECKS = {
  async auth() {
    await expectCode(unary(warden, 'Moderate', { texts: ['hi'] }, null), grpc.status.UNAUTHENTICATED, 'no key');
    await expectCode(unary(warden, 'Moderate', { texts: ['hi'] }, 'other'), grpc.status.UNAUTHENTICATED, 'bad key');
    await expectCode(unary(admin, 'ListPolicies', {}, appKey), grpc.status.PERMISSION_DENIED, 'admin with app key');
  },
  async moderate() {
    const response = await unary(warden, 'Moderate', { texts: ['Nice weather.', 'call me at bob@example.com'] }, appKey);
    assert(response.results.length === 2, 'two results');
    const email = response.results[1];
    assert(email.rules.some((r) => r.entityType === 'EMAIL'), 'email rule fired: ' + JSON.stringify(email));
    assert(!email.redactedText.includes('bob@example.com'), 'email redacted');
  },
  async stream() {
    const chunks = await new Promise((resolve, reject) => {
      const received = [];
      const call = warden.StreamGenerate(
          { messages: [{ role: 'USER', content: 'Hello' }], sampling: { maxOutputTokens: 8, temperature: 0 } },
          auth(appKey));
      call.on('data', (chunk) => received.push(chunk));
      call.on('error', reject);
      call.on('end', () => resolve(received));
    });
    assert(chunks.length > 0 && chunks[chunks.length - 1].summary, 'stream ends with a summary');
    const summary = chunks[chunks.length - 1].summary;
    assert(summary.requestId && summary.usage.promptTokens > 0, 'summary has id and usage');
    const record = await unary(admin, 'GetAuditRecord', { requestId: summary.requestId }, adminKey);
    assert(record.requestId === summary.requestId, 'audit record found');
    assert(record.classifier.startsWith('fast:'), 'audit record names the classifier');
  },
};

(async () => {
  for (const name of checks) {
    await CHECKS[name]();
    console.log(`node client: ${name} ok`);
  }
})().catch((error) => {
  console.error('node client: ' + error.message);
  process.exit(1);
});
