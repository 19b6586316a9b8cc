// The image service's web page: native ES modules (web/lib/), no build step, no framework.
//
// Everything the API returns reaches the page through textContent, element properties and
// checked URLs, never through innerHTML: an image name or metadata value is text, not markup.
// The API (openapi.yaml) stays authoritative; the checks here only save a round trip.
//
// This module wires the page's events to the modules that do the work:
//   deployment.js  config.js's settings      page.js      elements, state, status, errors
//   http.js        requests and polling      apikey.js    the API key
//   files.js       accepted files            metadata.js  the metadata rows
//   upload.js      uploading                 image.js     the image on show, versions, GIFs
//   words.js       sizes, names and dates    dom.js       text-only DOM building
//   errors.js      the page's error types
import { loadApiKey, saveApiKey } from "./lib/apikey.js";
import { config } from "./lib/deployment.js";
import { InputError } from "./lib/errors.js";
import { IMAGE_ID, openFromHash, openImage, thumbnailFailed, watchGifs } from "./lib/image.js";
import { addMetaRow } from "./lib/metadata.js";
import { clearError, els, showError, state } from "./lib/page.js";
import { chooseFile, dropFile, submitUpload } from "./lib/upload.js";
import { clip, formatBytes } from "./lib/words.js";

function start() {
  if (!config.loaded) {
    showError(
      "",
      new InputError(
        "config.js did not load, so this page does not know where the service is. " +
          "Serve the page with the service (make run) or deploy it with Terraform.",
      ),
    );
  }
  els.fileHint.textContent = `JPEG, PNG, GIF or WebP. Files over ${formatBytes(config.maxApiBytes)} go straight to storage.`;
  loadApiKey();
  els.apiKey.addEventListener("input", saveApiKey);

  els.file.addEventListener("change", () => chooseFile(els.file.files?.[0] ?? null));
  els.dropzone.addEventListener("dragenter", (event) => {
    event.preventDefault();
    if (!state.upload) els.dropzone.classList.add("is-dragging");
  });
  els.dropzone.addEventListener("dragover", (event) => {
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = state.upload ? "none" : "copy";
  });
  els.dropzone.addEventListener("dragleave", () => els.dropzone.classList.remove("is-dragging"));
  els.dropzone.addEventListener("drop", dropFile);
  // A file dropped next to the zone must not replace the page with the image.
  window.addEventListener("dragover", (event) => event.preventDefault());
  window.addEventListener("drop", (event) => event.preventDefault());

  els.metaAdd.addEventListener("click", addMetaRow);
  els.uploadForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = /** @type {SubmitEvent} */ (event).submitter;
    submitUpload(submitter === els.uploadVersion ? "version" : "create");
  });
  els.cancel.addEventListener("click", () => state.upload?.abort());

  els.openForm.addEventListener("submit", (event) => {
    event.preventDefault();
    clearError();
    const id = els.openId.value.trim().toLowerCase();
    if (!IMAGE_ID.test(id)) {
      showError(
        "",
        new InputError(
          id
            ? `“${clip(els.openId.value.trim())}” is not an image id. Ids look like ` +
                "3f0c8a9e-5b1d-4c2e-9a7f-0123456789ab."
            : "Enter an image id.",
          els.openId,
        ),
      );
      return;
    }
    openImage(id);
  });
  els.openId.addEventListener("input", () => els.openId.removeAttribute("aria-invalid"));

  els.thumb.addEventListener("error", thumbnailFailed);
  els.filePreview.addEventListener("error", () => {
    els.filePreview.hidden = true;
  });
  els.gifsRetry.addEventListener("click", () => {
    if (state.image && state.view) watchGifs(state.image, state.view.signal);
  });
  window.addEventListener("hashchange", openFromHash);
  window.addEventListener("unhandledrejection", (event) => showError("", event.reason));
  openFromHash();
}

start();
