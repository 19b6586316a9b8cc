// Building the page from text only: API data never becomes markup.
/** @param {string} id */
export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page is missing #${id}`);
  return found;
}

/**
 * An element with text and children; attributes are set as text, never parsed.
 * @param {string} tag
 * @param {{className?: string, text?: string, attrs?: Record<string, string>}} [options]
 * @param {...(Node | string | null)} children
 */
export function h(tag, { className, text, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null) node.append(child);
  }
  return node;
}

/**
 * An http(s) URL from the API, or null (no `javascript:` or other schemes reach an href).
 * @param {unknown} value
 */
export function safeUrl(value) {
  if (typeof value !== "string" || !value) return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A link to a URL from the API; plain text if the URL is not http(s).
 * @param {unknown} href
 * @param {string} text
 */
export function link(href, text) {
  const url = safeUrl(href);
  return url ? h("a", { text, attrs: { href: url } }) : h("span", { text });
}
