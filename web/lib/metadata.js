// The metadata rows of the upload form, checked as the service checks them.
import { InputError } from "./errors.js";
import { els, state } from "./page.js";
import { clip } from "./words.js";

/** The service's metadata key grammar (lambda_src/imgsvc/uploads_parsing.py). */
export const META_KEY = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export function addMetaRow() {
  const fragment = /** @type {DocumentFragment} */ (els.metaTemplate.content.cloneNode(true));
  const row = /** @type {HTMLElement} */ (fragment.querySelector(".meta-row"));
  state.metaCounter += 1;
  const n = state.metaCounter;
  const key = /** @type {HTMLInputElement} */ (row.querySelector(".meta-key"));
  const value = /** @type {HTMLInputElement} */ (row.querySelector(".meta-value"));
  key.id = `meta-key-${n}`;
  value.id = `meta-value-${n}`;
  row.querySelector(".meta-key-label")?.setAttribute("for", key.id);
  row.querySelector(".meta-value-label")?.setAttribute("for", value.id);
  const remove = /** @type {HTMLButtonElement} */ (row.querySelector(".meta-remove"));
  remove.addEventListener("click", () => removeMetaRow(row));
  for (const input of [key, value]) {
    input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  }
  els.metaRows.append(row);
  renumberMetaRows();
  key.focus();
}

/** @param {HTMLElement} row */
export function removeMetaRow(row) {
  const next = row.nextElementSibling ?? row.previousElementSibling;
  row.remove();
  renumberMetaRows();
  const target = next?.querySelector(".meta-key");
  if (target instanceof HTMLElement) target.focus();
  else els.metaAdd.focus();
}

export function renumberMetaRows() {
  els.metaRows.querySelectorAll(".meta-row").forEach((row, index) => {
    row
      .querySelector(".meta-remove")
      ?.setAttribute("aria-label", `Remove metadata entry ${index + 1}`);
    row.querySelector(".meta-key")?.setAttribute("aria-label", `Key of entry ${index + 1}`);
    row.querySelector(".meta-value")?.setAttribute("aria-label", `Value of entry ${index + 1}`);
  });
}

/** The metadata rows as [key, value] pairs, checked like the service checks them. */
export function readMetadata() {
  /** @type {Array<[string, string]>} */
  const pairs = [];
  const seen = new Set();
  for (const row of els.metaRows.querySelectorAll(".meta-row")) {
    const keyInput = /** @type {HTMLInputElement} */ (row.querySelector(".meta-key"));
    const valueInput = /** @type {HTMLInputElement} */ (row.querySelector(".meta-value"));
    const key = keyInput.value.trim().toLowerCase();
    const value = valueInput.value.trim();
    if (!key && !value) continue;
    if (!META_KEY.test(key)) {
      const shown = key
        ? `“${clip(keyInput.value.trim())}” is not a usable key`
        : "A metadata value has no key";
      throw new InputError(
        `${shown}: use 1–64 characters of a–z, 0–9, “_”, “-” or “.”, ` +
          "starting with a letter or digit.",
        keyInput,
      );
    }
    if (seen.has(key)) {
      throw new InputError(`The metadata key “${key}” is given twice.`, keyInput);
    }
    if (CONTROL_CHARACTERS.test(value)) {
      throw new InputError(
        `The value of “${key}” has characters that cannot be stored.`,
        valueInput,
      );
    }
    seen.add(key);
    pairs.push([key, value]);
  }
  return pairs;
}

export function clearMetadata() {
  els.metaRows.replaceChildren();
}
