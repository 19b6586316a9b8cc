// What goes wrong, as the page tells it: the service's errors and the person's input problems.
/**
 * An error the service (or storage) reported: its message, code and HTTP status (0: none).
 * `transient` errors (no answer, 5xx, 429) may go away when the request is repeated.
 */
export class ServiceError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, status?: number, transient?: boolean}} [details]
   */
  constructor(message, { code = "", status = 0, transient } = {}) {
    super(message);
    this.name = "ServiceError";
    this.code = code;
    this.status = status;
    this.transient = transient ?? (status >= 500 || status === 429);
  }
}

/** A problem with what the person entered; `field` is focused so it can be fixed. */
export class InputError extends Error {
  /**
   * @param {string} message
   * @param {HTMLElement | null} [field]
   */
  constructor(message, field = null) {
    super(message);
    this.name = "InputError";
    this.field = field;
  }
}

/** @param {unknown} error */
export function isAbort(error) {
  return error instanceof DOMException && error.name === "AbortError";
}
