// s3rver with the SigV4 check it lacks, for tests/unit/test_s3.c.
//
// s3rver 3.x verifies V2 signatures only: a V4 request passes as soon as its access key is
// known (lib/middleware/authentication.js, "Signature version 4 calculation is
// unimplemented"), so a wrong secret would go unseen. This launcher puts a check in front of
// it that re-signs each request with the `aws4` package (an implementation independent of
// ours) over the headers the client says it signed, and answers 403 SignatureDoesNotMatch,
// as S3 does, when the signatures differ.
//
// Usage: NODE_PATH=<dir>/node_modules node s3rver-sigv4.js DATA_DIR BUCKET
// Prints "listening on 127.0.0.1:PORT" once the bucket exists and the port is open.
'use strict';

const S3rver = require('s3rver');
const aws4 = require('aws4');

const ACCESS_KEY = 'S3RVER';
const SECRET_KEY = 'S3RVER';
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=[0-9a-f]{64}$/;

// null when the request is signed right, else the S3 error code to answer.
function check(req) {
  const auth = req.headers.authorization || '';
  const m = AUTH.exec(auth);
  if (!m) return 'AccessDenied';
  const [, key, region, signed] = m;
  if (key !== ACCESS_KEY) return 'InvalidAccessKeyId';
  const names = signed.split(';');
  // As S3: every x-amz-* header sent must be among those signed.
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !names.includes(name)) return 'AccessDenied';
  }
  const headers = {};
  for (const name of names) {
    if (req.headers[name] === undefined) return 'SignatureDoesNotMatch';
    headers[name] = req.headers[name];
  }
  const opts = { service: 's3', region, method: req.method, path: req.url, headers };
  aws4.sign(opts, { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  return opts.headers.Authorization === auth ? null : 'SignatureDoesNotMatch';
}

async function main() {
  const [dir, bucket] = process.argv.slice(2);
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  server.middleware.unshift(async (ctx, next) => {
    const code = check(ctx.req);
    if (!code) return next();
    ctx.status = 403;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>signature check failed</Message></Error>`;
  });
  const addr = await server.run();
  console.log(`listening on ${addr.address}:${addr.port}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
