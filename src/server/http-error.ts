/**
 * An HTTP failure the client can act on (bad parameter, missing run, no token): the handler
 * throws it and the app turns it into `{ "error": message }` with this status.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 415 | 503,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
