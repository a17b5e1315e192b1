#!/usr/bin/env node
// Runs s3rver on 127.0.0.1 with a port chosen by the kernel, creates the test bucket,
// and records "<pid> <port>" in a file once it listens.
//
// usage: node server.js <data dir> <bucket> <state file>
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const S3rver = require('s3rver');

// s3rver 3.7.1 makes its ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 has
// only in its legacy provider: without it every truncated listing fails with InternalError.
// Three-key DES with three equal keys computes exactly single DES, so stand in with that.
function hasSingleDes() {
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch (err) {
    return false;
  }
}
if (!hasSingleDes()) {
  for (const name of ['createCipheriv', 'createDecipheriv']) {
    const original = crypto[name];
    crypto[name] = function (algorithm, key, iv, options) {
      if (/^des(-cbc)?$/i.test(String(algorithm))) {
        const k = Buffer.from(key);
        return original.call(this, 'des-ede3-cbc', Buffer.concat([k, k, k]), iv, options);
      }
      return original.call(this, algorithm, key, iv, options);
    };
  }
}

const [dataDir, bucket, stateFile] = process.argv.slice(2);
if (!dataDir || !bucket || !stateFile) {
  console.error('usage: node server.js <data dir> <bucket> <state file>');
  process.exit(2);
}
fs.mkdirSync(dataDir, { recursive: true });

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: dataDir,
  configureBuckets: [{ name: bucket, configs: [] }],
});

server
  .run()
  .then(({ port }) => {
    const tmp = `${stateFile}.tmp`;
    fs.writeFileSync(tmp, `${process.pid} ${port}\n`);
    fs.renameSync(tmp, stateFile);
  })
  .catch(err => {
    console.error(`s3rver failed to start: ${err.stack || err}`);
    process.exit(1);
  });

// Objects are on disk as soon as they are answered for; there is nothing to wait for.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
