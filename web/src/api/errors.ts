/** The body the service sends with every error status. */
interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** A failed request, with a message meant for a person. */
export class ApiError extends Error {
  constructor(
    /** The HTTP status, or 0 when the service could not be reached at all. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * The request field the service blamed, e.g. `username` for "params.username must
   * be …" or "dateOfBirth must be before today", so a form can show it beside that field.
   */
  get field(): string | undefined {
    if (this.status !== 400) return undefined;
    return /^(?:params\.|body\.|querystring\.)?([A-Za-z]+)\b/.exec(this.message)?.[1];
  }

  /** The message without the request location ("params.", "body.") the service adds. */
  get fieldMessage(): string {
    return this.message.replace(/^(?:params|body|querystring)\./, '');
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).message === 'string' &&
    typeof (value as ErrorBody).statusCode === 'number'
  );
}

/** Reads the service's error shape; anything else (a proxy's HTML page) gets a plain message. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => undefined);
  if (isErrorBody(body)) return new ApiError(response.status, body.message);
  if (response.status === 502 || response.status === 503 || response.status === 504)
    return new ApiError(response.status, 'The service is unavailable right now. Retry shortly.');
  return new ApiError(response.status, `The service answered ${response.status}.`);
}

/** The request never got an answer: the network or the service is down. */
export function unreachable(): ApiError {
  return new ApiError(0, 'Cannot reach the service. Check your connection and retry.');
}
