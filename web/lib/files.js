// Which files the service accepts, told from the browser's type or the file's extension.
/** Types the service accepts, with the words people know them by. */
export const ACCEPTED_TYPES = new Map([
  ["image/jpeg", "JPEG"],
  ["image/png", "PNG"],
  ["image/gif", "GIF"],
  ["image/webp", "WebP"],
]);
/** For files the browser gives no type (some systems do not know .webp). */
export const EXTENSION_TYPES = new Map([
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["png", "image/png"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
]);

/** @param {File} file */
export function contentTypeOf(file) {
  if (ACCEPTED_TYPES.has(file.type)) return file.type;
  const extension = file.name.includes(".")
    ? (file.name.split(".").pop()?.toLowerCase() ?? "")
    : "";
  return file.type ? file.type : (EXTENSION_TYPES.get(extension) ?? "");
}

/**
 * Why the service would refuse this file before looking at its bytes, or "".
 * @param {File} file
 */
export function fileProblem(file) {
  const type = contentTypeOf(file);
  if (!ACCEPTED_TYPES.has(type)) {
    const what = type ? ` (${type})` : "";
    return (
      `“${file.name}”${what} is not an image the service accepts. ` +
      "Choose a JPEG, PNG, GIF or WebP file."
    );
  }
  if (file.size === 0) return `“${file.name}” is empty. Choose another file.`;
  return "";
}
