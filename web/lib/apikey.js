// The API key: kept for the browser session, sent with writes, and pointed at when refused.
import { ServiceError } from "./errors.js";
import { els } from "./page.js";

export const API_KEY_STORAGE = "imgsvc.apiKey";

export function loadApiKey() {
  try {
    els.apiKey.value = window.sessionStorage.getItem(API_KEY_STORAGE) ?? "";
  } catch {
    // storage blocked: the key lives in the field only
  }
}

export function saveApiKey() {
  try {
    const key = els.apiKey.value.trim();
    if (key) window.sessionStorage.setItem(API_KEY_STORAGE, key);
    else window.sessionStorage.removeItem(API_KEY_STORAGE);
  } catch {
    // storage blocked: the key lives in the field only
  }
}

/** @param {Record<string, string>} headers */
export function withApiKey(headers) {
  const key = els.apiKey.value.trim();
  return key ? { ...headers, "x-api-key": key } : headers;
}

/**
 * A write the gateway refused for want of a key points at the key's field.
 * @param {unknown} error
 */
export function withKeyHint(error) {
  // API Gateway answers a missing or wrong key with 403 "forbidden" (modules/api).
  if (error instanceof ServiceError && error.status === 403 && error.code === "forbidden") {
    const hint = els.apiKey.value.trim()
      ? " Check the API key (under “API key”)."
      : " If the service needs an API key, enter it under “API key”.";
    return new ServiceError(error.message.replace(/\.?$/, ".") + hint, {
      code: error.code,
      status: error.status,
    });
  }
  return error;
}
