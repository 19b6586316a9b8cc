// Numbers, sizes, names and dates in the words the page shows.
import { ACCEPTED_TYPES } from "./files.js";
export const numberFormat = new Intl.NumberFormat(undefined);
export const dateFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${numberFormat.format(bytes)} bytes`;
  const units = ["kB", "MB", "GB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits })} ${units[unit]}`;
}

/**
 * A name short enough for a button: the start and the end (the extension) of a long one.
 * @param {string} name
 */
export function shortName(name) {
  const chars = [...name];
  if (chars.length <= 40) return name;
  return `${chars.slice(0, 26).join("")}…${chars.slice(-12).join("")}`;
}

/**
 * What someone typed, short enough to quote in a message.
 * @param {string} text
 */
export function clip(text) {
  const chars = [...text];
  return chars.length <= 48 ? text : `${chars.slice(0, 47).join("")}…`;
}

/** @param {string} contentType */
export function typeName(contentType) {
  return ACCEPTED_TYPES.get(contentType) ?? contentType;
}

/** @param {string} value */
export function formatDate(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateFormat.format(date);
}

/** @param {Record<string, any>} record */
export function dimensions(record) {
  return `${numberFormat.format(record.width)} × ${numberFormat.format(record.height)} pixels`;
}

/** @param {string} effect */
export function effectName(effect) {
  return effect.charAt(0).toUpperCase() + effect.slice(1);
}
