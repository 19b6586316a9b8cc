// The page's elements, its state, and what it tells the person (status and errors).
import { byId } from "./dom.js";
import { InputError, ServiceError } from "./errors.js";
export const els = {
  status: byId("status"),
  error: byId("error"),
  errorMessage: byId("error-message"),
  errorCode: byId("error-code"),
  uploadForm: /** @type {HTMLFormElement} */ (byId("upload-form")),
  file: /** @type {HTMLInputElement} */ (byId("file")),
  dropzone: byId("dropzone"),
  filePreview: /** @type {HTMLImageElement} */ (byId("file-preview")),
  fileChosen: byId("file-chosen"),
  fileHint: byId("file-hint"),
  metaRows: byId("meta-rows"),
  metaAdd: /** @type {HTMLButtonElement} */ (byId("meta-add")),
  metaKeep: byId("meta-keep"),
  metaTemplate: /** @type {HTMLTemplateElement} */ (byId("meta-row")),
  progressRow: byId("progress-row"),
  progress: /** @type {HTMLProgressElement} */ (byId("progress")),
  progressText: byId("progress-text"),
  uploadNew: /** @type {HTMLButtonElement} */ (byId("upload-new")),
  uploadVersion: /** @type {HTMLButtonElement} */ (byId("upload-version")),
  cancel: /** @type {HTMLButtonElement} */ (byId("cancel")),
  openForm: /** @type {HTMLFormElement} */ (byId("open-form")),
  openId: /** @type {HTMLInputElement} */ (byId("open-id")),
  apiKey: /** @type {HTMLInputElement} */ (byId("api-key")),
  image: byId("image"),
  imageHeading: byId("image-heading"),
  thumb: /** @type {HTMLImageElement} */ (byId("thumb")),
  record: byId("record"),
  gifs: byId("gifs"),
  gifsNote: byId("gifs-note"),
  gifsRetry: /** @type {HTMLButtonElement} */ (byId("gifs-retry")),
  versions: byId("versions"),
};

export const state = {
  /** @type {File | null} the file chosen for the next upload */
  file: null,
  /** @type {string | null} object URL of its preview */
  previewUrl: null,
  /** @type {Record<string, any> | null} the record of the image on show (its latest version) */
  image: null,
  /** @type {AbortController | null} the upload in progress */
  upload: null,
  /** @type {AbortController | null} loading and polling for the image on show */
  view: null,
  /** rows ever added: unique ids for labels */
  metaCounter: 0,
};

/** @param {string} message */
export function announce(message) {
  els.status.textContent = message;
}

export function clearError() {
  els.errorMessage.textContent = "";
  els.errorCode.textContent = "";
  els.error.classList.remove("is-shown");
}

/**
 * Show an error in plain words: the message first, the code and status quietly after it.
 * @param {string} context what was being done, e.g. "Upload failed"
 * @param {unknown} error
 */
export function showError(context, error) {
  let message;
  let details = "";
  if (error instanceof ServiceError) {
    message = error.message;
    const parts = [];
    if (error.code) parts.push(`code: ${error.code}`);
    if (error.status) parts.push(`HTTP ${error.status}`);
    details = parts.join(" · ");
  } else if (error instanceof InputError) {
    message = error.message;
  } else {
    const detail = error instanceof Error ? error.message : String(error);
    message = `Something went wrong in this page: ${detail}`;
  }
  announce("");
  els.errorMessage.textContent = context ? `${context}: ${message}` : message;
  els.errorCode.textContent = details;
  els.error.classList.add("is-shown");
  if (error instanceof InputError && error.field) {
    error.field.setAttribute("aria-invalid", "true");
    error.field.focus();
  }
}
