// Unit tests of the CloudFront Function that puts the accepted image format into /r/* URIs.
// Run: node --test modules/cdn/tests/
// The file is loaded the way Terraform renders it (templatefile with avif_enabled) and run in
// a fresh VM context, like CloudFront's isolated runtime.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const test = require("node:test");
const vm = require("node:vm");

const SOURCE = fs.readFileSync(path.join(__dirname, "..", "functions", "rendition-format.js"), "utf8");
const ID = "0b6f9d2e-5c1a-4e8f-9a3b-7d2c1e0f4a5b";
const BASE = `/r/${ID}/3/400x300`;
const CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const SAFARI_15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
const OLD_BROWSER = "image/png,image/*;q=0.8,*/*;q=0.5";

function load(avifEnabled) {
  assert.equal((SOURCE.match(/\$\{/g) || []).length, 1, "the only template placeholder is avif_enabled");
  const rendered = SOURCE.replace("${avif_enabled}", String(avifEnabled));
  const context = vm.createContext({});
  vm.runInContext(rendered, context);
  return context.handler;
}

function viewerRequest(uri, accept) {
  const headers = accept === undefined ? {} : { accept: { value: accept } };
  return { version: "1.0", context: { eventType: "viewer-request" }, viewer: { ip: "192.0.2.1" }, request: { method: "GET", uri, querystring: {}, headers, cookies: {} } };
}

test("webp when Accept names it", () => {
  assert.equal(load(false)(viewerRequest(BASE, CHROME)).uri, `${BASE}/webp`);
  assert.equal(load(false)(viewerRequest(BASE, SAFARI_15)).uri, `${BASE}/webp`);
});

test("avif first when enabled and accepted", () => {
  assert.equal(load(true)(viewerRequest(BASE, CHROME)).uri, `${BASE}/avif`);
});

test("avif is never chosen when disabled", () => {
  assert.equal(load(false)(viewerRequest(BASE, "image/avif")).uri, `${BASE}/original`);
});

test("avif enabled but only webp accepted gives webp", () => {
  assert.equal(load(true)(viewerRequest(BASE, SAFARI_15)).uri, `${BASE}/webp`);
});

test("original without Accept, with wildcards only, or with q=0", () => {
  const handler = load(true);
  assert.equal(handler(viewerRequest(BASE)).uri, `${BASE}/original`);
  assert.equal(handler(viewerRequest(BASE, OLD_BROWSER)).uri, `${BASE}/original`);
  assert.equal(handler(viewerRequest(BASE, "*/*")).uri, `${BASE}/original`);
  assert.equal(handler(viewerRequest(BASE, "image/webp;q=0, image/avif; q=0.0")).uri, `${BASE}/original`);
});

test("media types are compared whole and case-insensitively", () => {
  const handler = load(false);
  assert.equal(handler(viewerRequest(BASE, "image/webpx")).uri, `${BASE}/original`);
  assert.equal(handler(viewerRequest(BASE, "Image/WebP; q=0.5")).uri, `${BASE}/webp`);
});

test("several Accept header lines are read together", () => {
  const event = viewerRequest(BASE);
  event.request.headers.accept = { value: "image/png", multiValue: [{ value: "image/png" }, { value: "image/webp" }] };
  assert.equal(load(false)(event).uri, `${BASE}/webp`);
});

test("paths that already name a format are left alone", () => {
  const handler = load(true);
  for (const format of ["original", "webp", "avif"]) {
    const request = handler(viewerRequest(`${BASE}/${format}`, "image/png"));
    assert.equal(request.uri, `${BASE}/${format}`);
    assert.equal(request.method, "GET", "the request itself goes on");
  }
});

test("the rest of the request is untouched", () => {
  const event = viewerRequest(BASE, CHROME);
  const request = load(false)(event);
  assert.equal(request, event.request);
  assert.deepEqual(request.headers, { accept: { value: CHROME } });
});

test("anything else under /r/ is a JSON 404 at the edge", () => {
  const handler = load(true);
  for (const uri of [
    "/r/",
    `/r/${ID}`,
    `/r/${ID}/3`,
    `/r/${ID}/3/`,
    `/r/${ID}/0/400x300`,
    `/r/${ID.toUpperCase()}/3/400x300`,
    "/r/not-a-uuid/3/400x300",
    `/r/${ID}/3/400x300/gif`,
    `/r/${ID}/3/400x300/webp/extra`,
    `/r/${ID}/3/${"x".repeat(33)}`,
    `/r/../originals/${ID}`,
  ]) {
    const response = handler(viewerRequest(uri, CHROME));
    assert.equal(response.statusCode, 404, uri);
    assert.equal(response.headers["content-type"].value, "application/json");
    const body = JSON.parse(response.body.data);
    assert.equal(body.error.code, "not_found");
    assert.match(body.error.message, /\/r\/<id>\/<version>\/<size>/);
  }
});
