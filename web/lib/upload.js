// Uploading: choosing a file, then through the API or straight to storage.
import { withApiKey, withKeyHint } from "./apikey.js";
import { config } from "./deployment.js";
import { safeUrl } from "./dom.js";
import { InputError, isAbort, ServiceError } from "./errors.js";
import { contentTypeOf, fileProblem } from "./files.js";
import {
  apiUrl,
  errorFrom,
  expectJson,
  getJson,
  poll,
  send,
  UPLOAD_POLL_LIMIT_MS,
} from "./http.js";
import { showImage } from "./image.js";
import { clearMetadata, readMetadata } from "./metadata.js";
import { announce, clearError, els, showError, state } from "./page.js";
import { dimensions, formatBytes, typeName } from "./words.js";

/** Header values must be visible ASCII; other text goes in a multipart form, as UTF-8. */
export const HEADER_SAFE = /^[\x20-\x7e]*$/;

export function chooseFile(file) {
  clearError();
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = null;
  state.file = null;
  els.filePreview.hidden = true;
  els.filePreview.removeAttribute("src");
  els.fileChosen.textContent = "";
  els.dropzone.classList.remove("has-file");
  if (!file) return;
  const problem = fileProblem(file);
  if (problem) {
    els.file.value = "";
    showError("", new InputError(problem));
    return;
  }
  state.file = file;
  state.previewUrl = URL.createObjectURL(file);
  // The browser may not decode it (or it is not an image): the service will say; no preview.
  els.filePreview.src = state.previewUrl;
  els.filePreview.hidden = false;
  els.dropzone.classList.add("has-file");
  const direct = file.size > config.maxApiBytes ? " · goes straight to storage" : "";
  const facts = [file.name, typeName(contentTypeOf(file)), formatBytes(file.size)].join(" · ");
  els.fileChosen.textContent = `Chosen: ${facts}${direct}`;
  announce(`Chosen ${file.name}, ${formatBytes(file.size)}. Ready to upload.`);
}

/** @param {DragEvent} event */
export function dropFile(event) {
  event.preventDefault();
  els.dropzone.classList.remove("is-dragging");
  if (state.upload) return;
  const files = event.dataTransfer?.files;
  if (!files || files.length === 0) return;
  if (files.length > 1) {
    showError("", new InputError("Drop one image at a time."));
    return;
  }
  try {
    els.file.files = files; // keep the input in step with what was dropped
  } catch {
    // older browsers: the drop still counts
  }
  chooseFile(files[0]);
}

/** @param {boolean} busy */
export function setBusy(busy) {
  els.uploadNew.disabled = busy;
  els.uploadVersion.disabled = busy;
  els.metaAdd.disabled = busy;
  els.file.disabled = busy;
  els.dropzone.classList.toggle("is-disabled", busy);
  els.cancel.hidden = !busy;
  els.uploadForm.setAttribute("aria-busy", String(busy));
  if (busy) {
    els.progress.value = 0;
    els.progressText.textContent = "";
    els.progressRow.hidden = false;
  }
}

/**
 * @param {number} loaded
 * @param {number} total
 */
export function showProgress(loaded, total) {
  const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
  els.progress.value = percent;
  // Once every byte is sent the service is working on it: cancelling would no longer stop it.
  if (percent >= 100) els.cancel.hidden = true;
  els.progressText.textContent =
    percent >= 100
      ? `Sent ${formatBytes(total)}. Waiting for the service…`
      : `${percent}% · ${formatBytes(loaded)} of ${formatBytes(total)}`;
}

/**
 * POST /images or PUT /images/{id}: the raw file as the body, metadata as x-meta-* headers.
 * Values headers cannot carry (non-ASCII) go as text parts of a multipart form instead.
 * @param {File} file
 * @param {Array<[string, string]>} metadata
 * @param {{method: "POST" | "PUT", path: string, expected: number, signal: AbortSignal}} how
 */
export async function uploadThroughApi(file, metadata, { method, path, expected, signal }) {
  /** @type {Record<string, string>} */
  const headers = {};
  /** @type {Array<[string, string]>} */
  const textParts = [];
  for (const [key, value] of metadata) {
    if (HEADER_SAFE.test(value)) headers[`x-meta-${key}`] = value;
    else textParts.push([key, value]);
  }
  /** @type {XMLHttpRequestBodyInit} */
  let body = file;
  if (textParts.length > 0) {
    const form = new FormData();
    form.append("image", file, file.name);
    for (const [key, value] of textParts) {
      if (key === "image") {
        throw new InputError("The key “image” can only hold plain ASCII text; rename it.");
      }
      form.append(key, value);
    }
    body = form; // the browser sets multipart/form-data with its boundary
  } else {
    headers["Content-Type"] = contentTypeOf(file);
  }
  const url = apiUrl(`${path}?name=${encodeURIComponent(file.name)}`);
  const response = await send({
    method,
    url,
    headers: withApiKey(headers),
    body,
    signal,
    onProgress: showProgress,
  });
  return expectJson(response, expected);
}

/**
 * Large files: POST /uploads for a presigned form, POST the file straight to storage, then
 * wait for the service to check it (GET /uploads/{id}) and read the new image's record.
 * @param {File} file
 * @param {Array<[string, string]>} metadata
 * @param {AbortSignal} signal
 */
export async function uploadDirect(file, metadata, signal) {
  announce(`Preparing a direct upload of ${file.name}…`);
  const ticketResponse = await send({
    method: "POST",
    url: apiUrl("/uploads"),
    headers: withApiKey({ "Content-Type": "application/json" }),
    body: JSON.stringify({
      name: file.name,
      content_type: contentTypeOf(file),
      metadata: Object.fromEntries(metadata),
    }),
    signal,
  });
  const ticket = expectJson(ticketResponse, 201);
  if (typeof ticket.max_bytes === "number" && file.size > ticket.max_bytes) {
    throw new InputError(
      `“${file.name}” is ${formatBytes(file.size)}; the service takes images of at most ` +
        `${formatBytes(ticket.max_bytes)}.`,
    );
  }
  const uploadUrl = safeUrl(ticket.upload?.url);
  if (!uploadUrl) throw new ServiceError("The service sent an upload form this page cannot use.");
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.upload.fields ?? {})) {
    form.append(name, String(value));
  }
  form.append("file", file, file.name); // last: storage reads the fields before the file
  announce(`Uploading ${file.name} straight to storage…`);
  const stored = await send({
    method: "POST",
    url: uploadUrl,
    body: form,
    signal,
    onProgress: showProgress,
  });
  if (stored.status < 200 || stored.status >= 300) {
    throw errorFrom(stored.status, stored.statusText, stored.text);
  }
  announce(`Uploaded ${file.name}. The service is checking the image…`);
  els.progressText.textContent = "Sent. The service is checking the image…";
  const id = encodeURIComponent(ticket.id);
  const settled = await poll(
    async (pollSignal) => {
      const status = await getJson(`/uploads/${id}`, pollSignal);
      if (status.status === "processed") return status;
      if (status.status === "rejected") {
        const detail = status.error ?? {};
        throw new ServiceError(
          typeof detail.message === "string" ? detail.message : "The service refused the image.",
          { code: typeof detail.code === "string" ? detail.code : "" },
        );
      }
      return undefined;
    },
    signal,
    UPLOAD_POLL_LIMIT_MS,
  );
  if (!settled) {
    throw new ServiceError(
      "The service has not finished checking the image yet. " +
        `Open it later with its id, ${ticket.id}.`,
    );
  }
  return getJson(`/images/${id}`, signal);
}

/** @param {"create" | "version"} action */
export async function submitUpload(action) {
  if (state.upload) return;
  clearError();
  const file = state.file;
  if (!file) {
    showError("", new InputError("Choose an image first.", els.file));
    return;
  }
  const target = action === "version" ? state.image : null;
  const direct = file.size > config.maxApiBytes;
  let metadata;
  try {
    metadata = readMetadata();
    if (target && direct) {
      throw new InputError(
        `“${file.name}” is ${formatBytes(file.size)}. ` +
          "New versions go through the API, which takes " +
          `at most ${formatBytes(config.maxApiBytes)}; only new images can be uploaded straight ` +
          "to storage.",
      );
    }
  } catch (error) {
    showError("", error);
    return;
  }
  const controller = new AbortController();
  state.upload = controller;
  setBusy(true);
  try {
    /** @type {Record<string, any>} */
    let record;
    if (target) {
      announce(`Uploading ${file.name} as version ${target.version + 1} of ${target.name}…`);
      record = await uploadThroughApi(file, metadata, {
        method: "PUT",
        path: `/images/${encodeURIComponent(target.id)}`,
        expected: 200,
        signal: controller.signal,
      });
    } else if (direct) {
      record = await uploadDirect(file, metadata, controller.signal);
    } else {
      announce(`Uploading ${file.name}…`);
      record = await uploadThroughApi(file, metadata, {
        method: "POST",
        path: "/images",
        expected: 201,
        signal: controller.signal,
      }).catch((error) => {
        // The function refused the body as over the stage's limit (config.js said more):
        // nothing was stored, so the same image goes straight to storage.
        if (
          error instanceof ServiceError &&
          error.status === 413 &&
          error.code === "payload_too_large"
        ) {
          return uploadDirect(file, metadata, controller.signal);
        }
        throw error;
      });
    }
    els.uploadForm.reset();
    chooseFile(null);
    clearMetadata();
    showImage(record);
    els.imageHeading.focus();
    announce(
      `Uploaded ${record.name}: version ${record.version}, ${dimensions(record)}, ` +
        `${formatBytes(record.size)}.`,
    );
  } catch (error) {
    if (isAbort(error)) announce(`Upload of ${file.name} cancelled.`);
    else showError("Upload failed", withKeyHint(error));
  } finally {
    state.upload = null;
    setBusy(false);
    els.progressRow.hidden = true;
  }
}
