// The image on show: its record, its versions, its thumbnail and its animated GIFs.
import { config } from "./deployment.js";
import { h, link, safeUrl } from "./dom.js";
import { isAbort } from "./errors.js";
import { apiUrl, getJson, GIF_POLL_LIMIT_MS, poll } from "./http.js";
import { announce, clearError, els, showError, state } from "./page.js";
import {
  dimensions,
  effectName,
  formatBytes,
  formatDate,
  numberFormat,
  shortName,
  typeName,
} from "./words.js";

/** The ids the service hands out: lowercase UUID4. */
export const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const THUMB_SIZE = "256x256";

/**
 * @param {Record<string, any>} record
 */
export function renderRecord(record) {
  /** @type {Array<[string, Node | string]>} */
  const rows = [
    ["Id", h("code", { className: "id", text: record.id })],
    ["Version", String(record.version)],
    ["Name", record.name],
    ["Type", `${typeName(record.content_type)} (${record.content_type})`],
    ["Dimensions", dimensions(record)],
    ["Size", `${formatBytes(record.size)} (${numberFormat.format(record.size)} bytes)`],
    [
      "Created",
      h("time", { text: formatDate(record.created_at), attrs: { datetime: record.created_at } }),
    ],
    ["SHA-256", h("code", { className: "hash", text: record.sha256 })],
    ["Metadata", metadataList(record.metadata)],
    ["Original", link(record.url, "Download the exact bytes")],
  ];
  els.record.replaceChildren(
    ...rows.map(([term, value]) =>
      h("div", { className: "record-row" }, h("dt", { text: term }), h("dd", {}, value)),
    ),
  );
}

/**
 * Metadata entries sorted by key (the service keeps no order).
 * @param {unknown} metadata
 * @returns {Array<[string, string]>}
 */
export function sortedEntries(metadata) {
  if (!metadata || typeof metadata !== "object") return [];
  return Object.entries(metadata)
    .map(([key, value]) => /** @type {[string, string]} */ ([key, String(value)]))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** @param {unknown} metadata */
export function metadataList(metadata) {
  const entries = sortedEntries(metadata);
  if (entries.length === 0) return h("span", { className: "muted", text: "None" });
  return h(
    "dl",
    { className: "metadata-list" },
    ...entries.map(([key, value]) =>
      h(
        "div",
        { className: "metadata-item" },
        h("dt", { text: key }),
        h("dd", { text: String(value) }),
      ),
    ),
  );
}

/** @param {Record<string, any>} record */
export function showThumbnail(record) {
  const caption = els.thumb.parentElement?.querySelector("figcaption");
  els.thumb.hidden = false;
  els.thumb.alt = `Thumbnail of ${record.name}, version ${record.version}`;
  if (caption) caption.textContent = "Thumbnail made by the resize service (fits 256 × 256)";
  // The version in the query string gives each version its own URL: the browser never shows a
  // thumbnail it cached for an older version.
  const id = encodeURIComponent(record.id);
  els.thumb.src = apiUrl(`/resize/${THUMB_SIZE}/${id}?v=${record.version}`);
}

export function thumbnailFailed() {
  els.thumb.hidden = true;
  const caption = els.thumb.parentElement?.querySelector("figcaption");
  if (caption) caption.textContent = "No thumbnail: the resize service did not return one.";
}

/**
 * Show an image (its latest record), then load its versions and watch its GIFs.
 * @param {Record<string, any>} record
 */
export function showImage(record) {
  state.view?.abort();
  const view = new AbortController();
  state.view = view;
  state.image = record;
  els.image.hidden = false;
  els.imageHeading.textContent = record.name;
  showThumbnail(record);
  renderRecord(record);
  els.uploadVersion.hidden = false;
  const next = record.version + 1;
  els.uploadVersion.textContent = `Upload as version ${next} of ${shortName(record.name)}`;
  els.metaKeep.hidden = false;
  els.openId.value = "";
  if (window.location.hash !== `#${record.id}`) {
    window.history.replaceState(null, "", `#${record.id}`);
  }
  document.title = `${record.name} · Image service`;
  els.gifs.replaceChildren();
  els.versions.replaceChildren();
  loadVersions(record, view.signal);
  watchGifs(record, view.signal);
}

/**
 * @param {Record<string, any>} record
 * @param {AbortSignal} signal
 */
export async function loadVersions(record, signal) {
  try {
    const body = await getJson(`/images/${encodeURIComponent(record.id)}/versions`, signal);
    /** @type {Array<Record<string, any>>} */
    const versions = Array.isArray(body.versions) ? body.versions : [];
    const latest = versions.reduce((top, v) => Math.max(top, Number(v.version) || 0), 0);
    els.versions.replaceChildren(...versions.map((v) => versionItem(v, v.version === latest)));
  } catch (error) {
    if (!isAbort(error)) showError("Could not list the versions", error);
  }
}

/**
 * @param {Record<string, any>} version
 * @param {boolean} latest
 */
export function versionItem(version, latest) {
  const id = encodeURIComponent(version.id);
  const thumbUrl = `${config.cdnBaseUrl}/r/${id}/${Number(version.version)}/${THUMB_SIZE}`;
  const image = h("img", {
    attrs: {
      src: thumbUrl,
      alt: `Version ${version.version} of ${version.name}`,
      width: "96",
      height: "96",
      loading: "lazy",
      decoding: "async",
    },
  });
  image.addEventListener(
    "error",
    () => image.replaceWith(h("span", { className: "no-thumb", text: "No preview" })),
    {
      once: true,
    },
  );
  const heading = h("h4", { text: `Version ${version.version}` });
  if (latest) heading.append(" ", h("span", { className: "badge", text: "latest" }));
  const facts = [
    dimensions(version),
    formatBytes(version.size),
    typeName(version.content_type),
  ].join(" · ");
  const metadata = sortedEntries(version.metadata);
  return h(
    "li",
    { className: "version", attrs: { "data-version": String(version.version) } },
    h("div", { className: "version-thumb" }, image),
    h(
      "div",
      { className: "version-info" },
      heading,
      h("p", { className: "version-facts", text: facts }),
      h(
        "p",
        { className: "version-facts" },
        h("span", { text: `${version.name} · ` }),
        h("time", {
          text: formatDate(version.created_at),
          attrs: { datetime: version.created_at },
        }),
      ),
      metadata.length
        ? h("p", {
            className: "version-meta",
            text: metadata.map(([k, v]) => `${k}: ${v}`).join(" · "),
          })
        : null,
      h("p", {}, link(version.url, `Exact bytes of version ${version.version}`)),
    ),
  );
}

/**
 * Poll GET /images/{id}/gifs (0.5 s doubling to 5 s) until every effect is ready or failed.
 * @param {Record<string, any>} record
 * @param {AbortSignal} signal
 */
export async function watchGifs(record, signal) {
  els.gifsRetry.hidden = true;
  els.gifsNote.textContent = "Making the animated GIFs…";
  const path = `/images/${encodeURIComponent(record.id)}/gifs`;
  try {
    const done = await poll(
      async (pollSignal) => {
        const body = await getJson(path, pollSignal);
        renderGifs(body, record);
        const effects = Object.values(body.effects ?? {});
        const pending = effects.filter((e) => e?.status === "pending").length;
        return pending === 0 ? effects : undefined;
      },
      signal,
      GIF_POLL_LIMIT_MS,
    );
    if (done === undefined) {
      els.gifsNote.textContent = "Some GIFs are still being made.";
      els.gifsRetry.hidden = false;
      return;
    }
    const ready = done.filter((e) => e?.status === "ready").length;
    const failed = done.length - ready;
    const summary =
      failed === 0
        ? `All ${done.length} GIFs are ready.`
        : `${ready} of ${done.length} GIFs are ready; ${failed} could not be made.`;
    els.gifsNote.textContent = summary;
    if (!state.upload) announce(`${record.name}: ${summary}`);
  } catch (error) {
    if (isAbort(error)) return;
    els.gifsNote.textContent = "Could not check the GIFs.";
    els.gifsRetry.hidden = false;
    showError("Could not check the GIFs", error);
  }
}

/**
 * Update the GIF list in place: a GIF that is ready is not reloaded by later polls.
 * @param {Record<string, any>} body
 * @param {Record<string, any>} record
 */
export function renderGifs(body, record) {
  const effects =
    body.effects && typeof body.effects === "object" ? Object.entries(body.effects) : [];
  for (const [effect, info] of effects) {
    /** @type {"ready" | "failed" | "pending"} */
    const status = info?.status === "ready" || info?.status === "failed" ? info.status : "pending";
    const url = status === "ready" ? safeUrl(info.url) : null;
    let item = /** @type {HTMLElement | null} */ (
      [...els.gifs.children].find(
        (child) => child instanceof HTMLElement && child.dataset.effect === effect,
      ) ?? null
    );
    if (item && item.dataset.status === status) continue;
    const name = effectName(effect);
    const frame = h("div", { className: "gif-frame" });
    if (status === "ready" && url) {
      const gif = h("img", {
        attrs: {
          src: url,
          alt: `${name} effect of ${record.name}, animated`,
          width: "200",
          height: "200",
          decoding: "async",
        },
      });
      gif.addEventListener(
        "error",
        () =>
          gif.replaceWith(
            h("span", { className: "gif-placeholder", text: "Could not load the GIF" }),
          ),
        { once: true },
      );
      frame.append(gif);
    } else {
      frame.append(
        h("span", {
          className: "gif-placeholder",
          text: status === "failed" ? "Could not be made" : "Making…",
        }),
      );
    }
    const words = { ready: "Ready", failed: "Failed", pending: "Making" };
    const caption = h(
      "figcaption",
      {},
      h("span", { className: "gif-name", text: name }),
      " ",
      h("span", { className: `gif-state state-${status}`, text: words[status] }),
    );
    if (status === "ready" && url)
      caption.append(
        " ",
        h("a", { text: "Open", attrs: { href: url, "aria-label": `Open the ${name} GIF` } }),
      );
    const next = h(
      "li",
      { className: "gif", attrs: { "data-effect": effect, "data-status": status } },
      h("figure", {}, frame, caption),
    );
    if (item) item.replaceWith(next);
    else els.gifs.append(next);
    item = next;
  }
  if (typeof body.version === "number" && body.version !== record.version) {
    els.gifsNote.textContent = `These are the GIFs of version ${body.version}, the newest.`;
  }
}

/** @param {string} id */
export async function openImage(id) {
  clearError();
  announce("Opening the image…");
  try {
    const record = await getJson(`/images/${encodeURIComponent(id)}`);
    showImage(record);
    els.imageHeading.focus();
    announce(`Opened ${record.name}, version ${record.version}.`);
  } catch (error) {
    showError("Could not open the image", error);
  }
}

export function openFromHash() {
  const id = decodeURIComponent(window.location.hash.slice(1)).trim().toLowerCase();
  if (IMAGE_ID.test(id) && state.image?.id !== id) openImage(id);
}
