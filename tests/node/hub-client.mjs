// The official @huggingface/hub client against a Hub: list a repository
// recursively and download one file. Prints the listing and the file's
// SHA-256 as JSON; exits 1 when the client rejects what the Hub sent.
// usage: node hub-client.mjs HUB_URL REPO PATH [TOKEN]
import { createHash } from 'node:crypto';
import { listFiles, downloadFile } from '@huggingface/hub';

const [hubUrl, name, path, token] = process.argv.slice(2);
const repo = { type: 'model', name };
const files = [];
for await (const f of listFiles({ repo, recursive: true, hubUrl, accessToken: token }))
  files.push({ path: f.path, type: f.type, size: f.size, lfs: f.lfs ? f.lfs.oid : null });
const blob = await downloadFile({ repo, path, hubUrl, accessToken: token });
if (!blob) throw new Error('no such file: ' + path);
const bytes = Buffer.from(await blob.arrayBuffer());
console.log(JSON.stringify({ files, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }));
