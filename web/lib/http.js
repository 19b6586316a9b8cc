// Talking to the API and to storage: requests, their errors, and polling.
import { config } from "./deployment.js";
import { isAbort, ServiceError } from "./errors.js";

/** Polling: first wait, doubling up to the longest wait, until the limit. */
export const POLL_FIRST_MS = 500;
export const POLL_MAX_MS = 5000;
export const GIF_POLL_LIMIT_MS = 5 * 60_000;
export const UPLOAD_POLL_LIMIT_MS = 10 * 60_000;
/** Consecutive failed polls (network, 5xx) tolerated before giving up. */
export const POLL_RETRIES = 4;

/** @param {string} path */
export function apiUrl(path) {
  return `${config.apiBaseUrl}${path}`;
}

/** @param {string} url */
export function unreachable(url) {
  let where = "the service";
  try {
    where = new URL(url, window.location.href).host;
  } catch {
    // keep the generic words
  }
  return new ServiceError(
    `Could not reach ${where}. Check the connection and try again; if it keeps failing, ` +
      "the server may not allow requests from this page.",
    { transient: true },
  );
}

/**
 * The error a failed response carries: the API's `{"error": {"code", "message"}}`, API
 * Gateway's `{"message"}`, S3's XML `<Error>`, or plain words for anything else.
 * @param {number} status
 * @param {string} statusText
 * @param {string} body
 */
export function errorFrom(status, statusText, body) {
  /** @type {any} */
  let data = null;
  try {
    data = JSON.parse(body);
  } catch {
    data = null;
  }
  if (data !== null && typeof data === "object") {
    const detail = data.error;
    if (detail && typeof detail === "object" && typeof detail.message === "string") {
      const code = typeof detail.code === "string" ? detail.code : "";
      return new ServiceError(detail.message, { code, status });
    }
    if (typeof data.message === "string" && data.message) {
      return new ServiceError(data.message, { status });
    }
  }
  if (body.includes("<Error>")) {
    const xml = new DOMParser().parseFromString(body, "application/xml");
    const message = xml.querySelector("Error > Message")?.textContent?.trim();
    if (message) {
      const code = xml.querySelector("Error > Code")?.textContent?.trim() ?? "";
      return new ServiceError(message, { code, status });
    }
  }
  const reason = statusText ? ` (${statusText})` : "";
  return new ServiceError(
    `The server answered HTTP ${status}${reason} without saying why. Try again in a moment.`,
    { status },
  );
}

/**
 * The JSON body of a response with the expected status, or the error it carries.
 * @param {{status: number, statusText: string, text: string}} response
 * @param {number} expected
 */
export function expectJson(response, expected) {
  if (response.status !== expected) {
    throw errorFrom(response.status, response.statusText, response.text);
  }
  try {
    return JSON.parse(response.text);
  } catch {
    throw new ServiceError("The service sent an answer this page cannot read.", {
      status: response.status,
    });
  }
}

/**
 * GET a JSON document from the API.
 * @param {string} path
 * @param {AbortSignal} [signal]
 */
export async function getJson(path, signal) {
  const url = apiUrl(path);
  let response;
  try {
    response = await fetch(url, {
      headers: { Accept: "application/json" },
      cache: "no-store",
      signal,
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw unreachable(url);
  }
  const text = await response.text();
  return expectJson({ status: response.status, statusText: response.statusText, text }, 200);
}

/**
 * A request through XMLHttpRequest: fetch reports no upload progress.
 * @param {{method: string, url: string, headers?: Record<string, string>,
 *          body: XMLHttpRequestBodyInit, signal?: AbortSignal,
 *          onProgress?: (loaded: number, total: number) => void}} request
 * @returns {Promise<{status: number, statusText: string, text: string}>}
 */
export function send({ method, url, headers = {}, body, signal, onProgress }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
    }
    xhr.addEventListener("load", () =>
      resolve({ status: xhr.status, statusText: xhr.statusText, text: xhr.responseText }),
    );
    xhr.addEventListener("error", () => reject(unreachable(url)));
    xhr.addEventListener("abort", () => reject(new DOMException("Cancelled", "AbortError")));
    if (signal) {
      if (signal.aborted) {
        reject(new DOMException("Cancelled", "AbortError"));
        return;
      }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    xhr.send(body);
  });
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DOMException("Cancelled", "AbortError"));
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("Cancelled", "AbortError"));
      },
      { once: true },
    );
  });
}

/**
 * Poll until `check` returns a value (not undefined): waits 0.5 s, doubling up to 5 s.
 * Transient failures (no answer, 5xx, 429) are retried a few times; others stop the polling.
 * Returns undefined when `limitMs` passed without an answer.
 * @template T
 * @param {(signal: AbortSignal) => Promise<T | undefined>} check
 * @param {AbortSignal} signal
 * @param {number} limitMs
 * @returns {Promise<T | undefined>}
 */
export async function poll(check, signal, limitMs) {
  const deadline = Date.now() + limitMs;
  let wait = POLL_FIRST_MS;
  let failures = 0;
  for (;;) {
    try {
      const done = await check(signal);
      failures = 0;
      if (done !== undefined) return done;
    } catch (error) {
      failures += 1;
      if (!(error instanceof ServiceError && error.transient) || failures > POLL_RETRIES) {
        throw error;
      }
    }
    if (Date.now() + wait > deadline) return undefined;
    await sleep(wait, signal);
    wait = Math.min(wait * 2, POLL_MAX_MS);
  }
}
