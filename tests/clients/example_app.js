// What an app does with Warden, in Node.js (the README's example; run by the e2e test).
// Usage: node example_app.js PROTO_ROOT TARGET   (npm: @grpc/grpc-js, @grpc/proto-loader)
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [protoRoot, target] = process.argv.slice(2);
const definition = protoLoader.loadSync(path.join(protoRoot, 'proto/warden.proto'), {
  includeDirs: [protoRoot], longs: Number, enums: String, defaults: true, oneofs: true,
});
const v1 = grpc.loadPackageDefinition(definition).warden.v1;
const warden = new v1.Warden(target, grpc.credentials.createInsecure());  // createSsl(...) with TLS
const key = new grpc.Metadata();
key.add('authorization', 'Bearer ' + (process.env.WARDEN_API_KEY || 'warden-demo-key'));

function moderate(texts) {
  return new Promise((resolve, reject) => warden.Moderate({ texts }, key, { deadline: Date.now() + 10000 },
    (error, response) => (error ? reject(error) : resolve(response))));
}

async function main() {
  // 1. Check user text before using it: one result per text, in order.
  const checked = await moderate(['mail bob@example.com', 'Nice weather.']);
  for (const result of checked.results) console.log(`moderate: ${result.action} ${JSON.stringify(result.redactedText)}`);

  // 2. Generate through Warden; the stream ends with a summary holding both decisions.
  const request = { messages: [{ role: 'USER', content: 'Say hello.' }], sampling: { maxOutputTokens: 16 } };
  const stream = warden.StreamGenerate(request, key, { deadline: Date.now() + 120000 });
  stream.on('data', (chunk) => {
    if (chunk.delta) process.stdout.write(chunk.delta.text);
    if (chunk.summary) {
      console.log(`\ngenerate: ${chunk.summary.finishReason} output=${chunk.summary.outputDecision.action}` +
                  ` request_id=${chunk.summary.requestId}`);
    }
  });
  await new Promise((resolve, reject) => { stream.on('end', resolve); stream.on('error', reject); });
}

main().catch((error) => {
  console.error(`failed: ${error.code} ${error.details || error.message}`);
  process.exit(1);
});
