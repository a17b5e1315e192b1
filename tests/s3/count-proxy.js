#!/usr/bin/env node
// A small HTTP proxy in front of s3rver for dv's S3 tests. It
//   - counts the requests it forwards, by method and by S3 operation (list, get, head, put,
//     delete, other), overall and per top-level key prefix ("<first segment>/..."), so tests
//     that share the rig can each look at their own counts;
//   - checks AWS Signature Version 4 on every request, as S3 does, because s3rver 3.7.1 only
//     checks that the access key id exists: unsigned requests, unknown keys and wrong
//     signatures get 403, and a PUT whose body does not hash to its x-amz-content-sha256
//     gets 400 before anything reaches s3rver;
//   - holds a LIST until no PUT is on its way to s3rver, since s3rver writes an object in
//     place and would list it half-written, where S3 shows an object only once its PUT
//     completed;
//   - never answers "Expect: 100-continue" (as some servers and proxies do not), and records
//     the longest time a client that sent it waited before sending its body anyway; with
//     RIG_CONTINUE=1 it answers it as S3 does, after the latency below;
//   - with RIG_LATENCY_MS=<ms>, holds back the first byte of every answer (its status line)
//     that long after the request was received whole, as a region far away would: with it,
//     the number of requests and how many are in flight weigh as they do against S3;
//   - forwards everything else unchanged (the Host header included) and streams bodies.
//
// Its own endpoints (never forwarded, never counted):
//   GET /__dv_health              200 once s3rver answers
//   GET /__dv_counts[?prefix=p]   the counts as JSON
//   POST /__dv_counts/reset       zero the counts
//   POST /__dv_faults?prefix=p&status=503&code=SlowDown&count=2[&op=delete][&skip=1]
//                                 answer the next <count> valid requests under prefix p (of
//                                 operation op only: list, get, head, put, delete; after
//                                 letting <skip> of them through) with that error instead of
//                                 forwarding them (status=drop: close the connection without
//                                 an answer; status=hold&mark=<file>&go=<file>: create mark,
//                                 then forward the request once go exists)
//
// usage: node count-proxy.js <upstream port> <spool dir> <state file>
// It listens on RIG_LISTEN_ADDRESS (default 127.0.0.1). The credentials it accepts come from RIG_ACCESS_KEY_ID and RIG_SECRET_ACCESS_KEY
// (default S3RVER / S3RVER, s3rver's built-in account).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const [upstreamPortArg, spoolDir, stateFile] = process.argv.slice(2);
if (!upstreamPortArg || !spoolDir || !stateFile) {
  console.error('usage: node count-proxy.js <upstream port> <spool dir> <state file>');
  process.exit(2);
}
const upstreamPort = Number(upstreamPortArg);
const credentials = new Map([
  [process.env.RIG_ACCESS_KEY_ID || 'S3RVER', process.env.RIG_SECRET_ACCESS_KEY || 'S3RVER'],
]);
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const LATENCY_MS = Number(process.env.RIG_LATENCY_MS || 0);
const ANSWER_CONTINUE = process.env.RIG_CONTINUE === '1';
const LISTEN_ADDRESS = process.env.RIG_LISTEN_ADDRESS || '127.0.0.1';
if (!(LATENCY_MS >= 0 && LATENCY_MS <= 60000)) {
  console.error(`RIG_LATENCY_MS must be 0-60000, not ${process.env.RIG_LATENCY_MS}`);
  process.exit(2);
}
fs.mkdirSync(spoolDir, { recursive: true });

const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// ---- counts ----

function emptyCounts() {
  return {
    requests: 0,
    methods: {},
    ops: { list: 0, get: 0, head: 0, put: 0, delete: 0, other: 0 },
    rejected: 0,
    faults: 0,
    expect_100_continue: 0,
    expect_wait_ms_max: 0,
    bytes_in: 0,
    bytes_out: 0,
  };
}

let totals = emptyCounts();
let byPrefix = new Map();
const faults = new Map();

function countsFor(prefix) {
  if (!byPrefix.has(prefix)) byPrefix.set(prefix, emptyCounts());
  return byPrefix.get(prefix);
}

function eachCounts(prefix, fn) {
  fn(totals);
  if (prefix !== null) fn(countsFor(prefix));
}

// ---- parsing a request into bucket, key and operation (path-style addressing) ----

function splitUrl(rawUrl) {
  const q = rawUrl.indexOf('?');
  return q < 0 ? [rawUrl, ''] : [rawUrl.slice(0, q), rawUrl.slice(q + 1)];
}

function parseQuery(rawQuery) {
  const pairs = [];
  if (rawQuery === '') return pairs;
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([decodeURIComponent(name), decodeURIComponent(value)]);
  }
  return pairs;
}

function describe(req) {
  const [rawPath, rawQuery] = splitUrl(req.url);
  const query = new Map(parseQuery(rawQuery));
  const segments = rawPath.split('/').slice(1).map(decodeURIComponent);
  const bucket = segments[0] || '';
  const key = segments.slice(1).join('/');
  let op = 'other';
  if (req.method === 'GET' && key === '' && bucket !== '') op = 'list';
  else if (req.method === 'GET' && key !== '') op = 'get';
  else if (req.method === 'HEAD' && key !== '') op = 'head';
  else if (req.method === 'PUT' && key !== '') op = 'put';
  else if (req.method === 'DELETE' && key !== '') op = 'delete';
  let prefix = null;
  const scoped = op === 'list' ? query.get('prefix') || '' : key;
  if (scoped.includes('/')) prefix = scoped.slice(0, scoped.indexOf('/'));
  return { op, prefix };
}

// ---- AWS Signature Version 4 ----

function uriEncode(text) {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function sha256Hex(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data).digest();
}

class RigError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text || '');
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

// Throws a RigError unless the request carries a valid SigV4 Authorization header.
function verifySignature(req) {
  const auth = req.headers['authorization'];
  if (!auth) {
    throw new RigError(403, 'AccessDenied', 'Anonymous requests are not allowed (no Authorization header)');
  }
  const m = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/.exec(
    auth,
  );
  if (!m) {
    throw new RigError(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
  }
  const [, credential, signedHeadersText, signature] = m;
  const scopeParts = credential.split('/');
  if (scopeParts.length !== 5 || scopeParts[3] !== 's3' || scopeParts[4] !== 'aws4_request') {
    throw new RigError(400, 'AuthorizationHeaderMalformed', `Bad credential scope: ${credential}`);
  }
  const [accessKeyId, scopeDate, region] = scopeParts;
  const secret = credentials.get(accessKeyId);
  if (secret === undefined) {
    throw new RigError(
      403,
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: accessKeyId },
    );
  }
  const amzDate = req.headers['x-amz-date'];
  const requestTime = parseAmzDate(amzDate);
  if (isNaN(requestTime)) {
    throw new RigError(403, 'AccessDenied', 'AWS authentication requires a valid x-amz-date header');
  }
  if (Math.abs(Date.now() - requestTime) > MAX_CLOCK_SKEW_MS) {
    throw new RigError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }
  if (amzDate.slice(0, 8) !== scopeDate) {
    throw new RigError(403, 'SignatureDoesNotMatch', 'The credential scope date does not match x-amz-date');
  }
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) {
    throw new RigError(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  if (!/^([0-9a-f]{64}|UNSIGNED-PAYLOAD)$/.test(payloadHash)) {
    throw new RigError(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.');
  }
  const signedHeaders = signedHeadersText.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!signedHeaders.includes(required)) {
      throw new RigError(403, 'AccessDenied', `Header ${required} must be signed`);
    }
  }
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !signedHeaders.includes(name)) {
      throw new RigError(403, 'AccessDenied', `There were headers present in the request which were not signed: ${name}`);
    }
  }

  const [rawPath, rawQuery] = splitUrl(req.url);
  const canonicalUri = rawPath
    .split('/')
    .map(segment => uriEncode(decodeURIComponent(segment)))
    .join('/');
  const canonicalQuery = parseQuery(rawQuery)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map(name => {
      const value = req.headers[name];
      if (value === undefined) {
        throw new RigError(403, 'SignatureDoesNotMatch', `Signed header ${name} is missing`);
      }
      return `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeadersText,
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secret}`, scopeDate);
  key = hmac(key, region);
  key = hmac(key, 's3');
  key = hmac(key, 'aws4_request');
  const expected = crypto.createHmac('sha256', key).update(stringToSign).digest('hex');
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    // A client that signs the URL as written (libcurl 7.88 does) fails here when the URL is
    // not already canonical; say so, since the secret is usually not the problem then.
    const notes = [];
    if (rawQuery !== canonicalQuery) {
      notes.push(
        'the query string is not in canonical form (SigV4 signs its parameters sorted by name ' +
          `and percent-encoded, '/' as %2F): it should read ${canonicalQuery}`,
      );
    }
    if (rawPath !== canonicalUri) {
      notes.push(`the path is not in canonical form: it should read ${canonicalUri}`);
    }
    throw new RigError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your key and signing method.' +
        (notes.length ? ` Note: ${notes.join('; ')}` : ''),
      { AWSAccessKeyId: accessKeyId, StringToSign: stringToSign, CanonicalRequest: canonicalRequest },
    );
  }
  return payloadHash;
}

function xmlEscape(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function sendError(req, res, err) {
  const extra = Object.entries(err.extra || {})
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('');
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message>` +
    `${extra}<Resource>${xmlEscape(req.url)}</Resource><RequestId>dv-rig</RequestId></Error>`;
  res.writeHead(err.status, {
    'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// ---- forwarding ----

// S3 shows an object only once its PUT has completed; s3rver writes it in place and lists it
// while it is still being written. So a LIST waits until no PUT is on its way to s3rver.
let putsInFlight = 0;
let listsWaiting = [];
function putDone() {
  putsInFlight -= 1;
  if (putsInFlight === 0) {
    const ready = listsWaiting;
    listsWaiting = [];
    ready.forEach(run => run());
  }
}
function whenNoPut(run) {
  if (putsInFlight === 0) run();
  else listsWaiting.push(run);
}

// body: null (stream the request's own), a spooled file's path, or a Buffer held in memory.
function forward(req, res, body, prefix) {
  const bodyFile = typeof body === 'string' ? body : null;
  const headers = { ...req.headers };
  delete headers['expect'];
  const upstream = http.request({
    host: '127.0.0.1',
    port: upstreamPort,
    method: req.method,
    path: req.url,
    headers,
    agent: upstreamAgent,
  });
  if (req.method === 'PUT') {
    // Done when s3rver has answered (it answers once the object is stored) or failed; not
    // when the client went away, since the spooled body is still being stored then.
    putsInFlight += 1;
    let done = false;
    const once = () => {
      if (!done) {
        done = true;
        putDone();
      }
    };
    upstream.on('response', upRes => {
      upRes.on('end', once);
      upRes.on('close', once);
    });
    upstream.on('error', once);
    upstream.on('close', once);
  }
  const cleanup = () => {
    if (bodyFile) fs.rm(bodyFile, { force: true }, () => {});
  };
  upstream.on('response', upRes => {
    // s3rver 3.7.1 reads "bytes=0-0" as "bytes=0-" and sends the whole object; give the one
    // byte asked for, as S3 does.
    const contentRange = /^bytes 0-(\d+)\/(\d+)$/.exec(upRes.headers['content-range'] || '');
    if (
      req.method === 'GET' &&
      /^bytes=0-0$/.test(req.headers['range'] || '') &&
      upRes.statusCode === 206 &&
      contentRange &&
      contentRange[1] !== '0'
    ) {
      res.writeHead(206, {
        ...upRes.headers,
        'content-range': `bytes 0-0/${contentRange[2]}`,
        'content-length': '1',
      });
      upRes.once('data', chunk => {
        eachCounts(prefix, c => (c.bytes_out += 1));
        res.end(chunk.subarray(0, 1));
        upRes.destroy();
        cleanup();
      });
      return;
    }
    res.writeHead(upRes.statusCode, upRes.headers);
    upRes.on('data', chunk => eachCounts(prefix, c => (c.bytes_out += chunk.length)));
    upRes.pipe(res);
    upRes.on('end', cleanup);
  });
  upstream.on('error', err => {
    cleanup();
    if (!res.headersSent) {
      sendError(req, res, new RigError(502, 'BadGateway', `s3rver: ${err.message}`));
    } else {
      res.destroy();
    }
  });
  if (Buffer.isBuffer(body)) {
    upstream.end(body);
  } else if (bodyFile) {
    fs.createReadStream(bodyFile).pipe(upstream);
  } else {
    req.pipe(upstream);
  }
}

// A PUT with a body hash is held back until it is whole, so that a body that does not match
// its hash is refused before s3rver stores any of it (as S3 does): in memory while the PUTs
// held come to at most MEMORY_BYTES, else spooled to disk.
const MEMORY_BYTES = 512 * 1024 * 1024;
let memoryHeld = 0;
function spoolAndForward(req, res, payloadHash, prefix) {
  const declared = Number(req.headers['content-length']);
  const inMemory = Number.isSafeInteger(declared) && declared >= 0 && memoryHeld + declared <= MEMORY_BYTES;
  const file = inMemory ? null : path.join(spoolDir, `put-${process.pid}-${crypto.randomBytes(8).toString('hex')}`);
  const out = inMemory ? null : fs.createWriteStream(file);
  const chunks = [];
  let held = 0;
  if (inMemory) memoryHeld += declared;
  let released = false;
  const release = () => {
    if (inMemory && !released) {
      released = true;
      memoryHeld -= declared;
    }
  };
  const hash = crypto.createHash('sha256');
  req.on('data', chunk => {
    hash.update(chunk);
    eachCounts(prefix, c => (c.bytes_in += chunk.length));
    if (inMemory) {
      held += chunk.length;
      if (held <= declared) chunks.push(chunk);
    }
  });
  if (out) req.pipe(out);
  const fail = err => {
    release();
    if (file) fs.rm(file, { force: true }, () => {});
    if (!res.headersSent) sendError(req, res, err);
  };
  const whole = () => {
    if (req.aborted) return;
    const actual = hash.digest('hex');
    if (actual !== payloadHash) {
      fail(
        new RigError(
          400,
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: actual },
        ),
      );
      return;
    }
    if (inMemory) {
      if (held !== declared) {
        fail(new RigError(400, 'IncompleteBody', 'The body is not as long as its Content-Length'));
        return;
      }
      const body = Buffer.concat(chunks, held);
      chunks.length = 0;
      res.on('close', release);
      forward(req, res, body, prefix);
    } else {
      forward(req, res, file, prefix);
    }
  };
  req.on('aborted', () => fail(new RigError(400, 'IncompleteBody', 'The request body was cut short')));
  if (out) {
    out.on('error', err => fail(new RigError(500, 'InternalError', `spooling the body: ${err.message}`)));
    out.on('finish', whole);
  } else {
    req.on('end', whole);
  }
}

function handleOwn(req, res) {
  const [rawPath, rawQuery] = splitUrl(req.url);
  const reply = (status, value) => {
    const body = JSON.stringify(value) + '\n';
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (rawPath === '/__dv_counts' && req.method === 'GET') {
    const prefix = new Map(parseQuery(rawQuery)).get('prefix');
    if (prefix !== undefined) {
      reply(200, countsFor(prefix));
    } else {
      reply(200, { ...totals, by_prefix: Object.fromEntries(byPrefix) });
    }
  } else if (rawPath === '/__dv_counts/reset' && req.method === 'POST') {
    totals = emptyCounts();
    byPrefix = new Map();
    reply(200, { reset: true });
  } else if (rawPath === '/__dv_faults' && req.method === 'POST') {
    const query = new Map(parseQuery(rawQuery));
    const prefix = query.get('prefix');
    const status = query.get('status') || '503';
    const count = Number(query.get('count') || '1');
    const skip = Number(query.get('skip') || '0');
    const op = query.get('op') || null;
    const mark = query.get('mark') || null;
    const go = query.get('go') || null;
    const ops = ['list', 'get', 'head', 'put', 'delete'];
    if (!prefix || !(status === 'drop' || status === 'hold' || /^[1-5]\d\d$/.test(status)) ||
        !(count >= 0) || !(skip >= 0) || (op !== null && !ops.includes(op)) ||
        (status === 'hold' && (!mark || !go))) {
      reply(400, { error: 'need prefix, status (an HTTP status, drop, or hold with mark and go), ' +
                         'count, and optionally op and skip' });
      return;
    }
    faults.set(prefix, { status, code: query.get('code') || 'InternalError', count, skip, op, mark, go });
    reply(200, { prefix, status, count, skip, op });
  } else if (rawPath === '/__dv_health' && req.method === 'GET') {
    const probe = http.request({ host: '127.0.0.1', port: upstreamPort, method: 'GET', path: '/' });
    probe.on('response', upRes => {
      upRes.resume();
      reply(upRes.statusCode < 500 ? 200 : 503, { upstream_status: upRes.statusCode });
    });
    probe.on('error', err => reply(503, { error: err.message }));
    probe.end();
  } else {
    reply(404, { error: 'unknown rig endpoint' });
  }
}

// The answer (status line, headers and body) goes out LATENCY_MS after it was ready.
function delayAnswer(res) {
  if (LATENCY_MS === 0) return;
  let queue = [];
  const hold = (original, held) =>
    function (...args) {
      if (queue === null) return original.apply(res, args);
      queue.push([original, args]);
      if (queue.length === 1) {
        setTimeout(() => {
          const q = queue;
          queue = null;
          for (const [fn, a] of q) fn.apply(res, a);
        }, LATENCY_MS);
      }
      return held;
    };
  res.writeHead = hold(res.writeHead, res);
  res.write = hold(res.write, true);
  res.end = hold(res.end, res);
}

function handle(req, res) {
  if (req.url.startsWith('/__dv_')) {
    handleOwn(req, res);
    return;
  }
  delayAnswer(res);
  if (ANSWER_CONTINUE && /100-continue/i.test(req.headers['expect'] || '')) {
    setTimeout(() => {
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
    }, LATENCY_MS);
  }
  let info;
  try {
    info = describe(req);
  } catch (err) {
    sendError(req, res, new RigError(400, 'InvalidURI', `Could not parse the specified URI: ${err.message}`));
    return;
  }
  eachCounts(info.prefix, c => {
    c.requests += 1;
    c.methods[req.method] = (c.methods[req.method] || 0) + 1;
    c.ops[info.op] += 1;
    if (/100-continue/i.test(req.headers['expect'] || '')) c.expect_100_continue += 1;
  });
  if (/100-continue/i.test(req.headers['expect'] || '')) {
    const arrived = Date.now();
    req.once('data', () => {
      const waited = Date.now() - arrived;
      eachCounts(info.prefix, c => (c.expect_wait_ms_max = Math.max(c.expect_wait_ms_max, waited)));
    });
  }
  let payloadHash;
  try {
    payloadHash = verifySignature(req);
  } catch (err) {
    if (!(err instanceof RigError)) {
      err = new RigError(400, 'InvalidRequest', err.message);
    }
    eachCounts(info.prefix, c => (c.rejected += 1));
    // Drain the body so the client sees the answer rather than a reset connection.
    req.resume();
    sendError(req, res, err);
    return;
  }
  const fault = info.prefix !== null ? faults.get(info.prefix) : undefined;
  if (fault && fault.count > 0 && (fault.op === null || fault.op === info.op)) {
    if (fault.skip > 0) {
      fault.skip -= 1;
    } else {
      fault.count -= 1;
      eachCounts(info.prefix, c => (c.faults += 1));
      if (fault.status === 'hold') {
        req.pause();
        fs.writeFileSync(fault.mark, '');
        const poll = setInterval(() => {
          if (fs.existsSync(fault.go)) {
            clearInterval(poll);
            proceed(req, res, info, payloadHash);
          }
        }, 20);
      } else if (fault.status === 'drop') {
        req.socket.destroy();
      } else {
        req.resume();
        sendError(req, res, new RigError(Number(fault.status), fault.code, 'Injected by the dv test rig'));
      }
      return;
    }
  }
  proceed(req, res, info, payloadHash);
}

// Forward a request whose signature passed and that no fault stopped.
function proceed(req, res, info, payloadHash) {
  if (req.method === 'PUT' && payloadHash !== 'UNSIGNED-PAYLOAD') {
    spoolAndForward(req, res, payloadHash, info.prefix);
  } else {
    req.on('data', chunk => eachCounts(info.prefix, c => (c.bytes_in += chunk.length)));
    if (info.op === 'list') whenNoPut(() => forward(req, res, null, info.prefix));
    else forward(req, res, null, info.prefix);
  }
}

const server = http.createServer(handle);
// With a listener here node no longer answers "100 Continue" by itself.
server.on('checkContinue', handle);

server.keepAliveTimeout = 30000;
server.listen(0, LISTEN_ADDRESS, () => {
  const tmp = `${stateFile}.tmp`;
  fs.writeFileSync(tmp, `${process.pid} ${server.address().port}\n`);
  fs.renameSync(tmp, stateFile);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
