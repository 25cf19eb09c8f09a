// @ts-check
/* global module, AbortSignal, URL */
/**
 * The journey the canary walks through the public entrance, as a user would: save a
 * birthday, then read the greeting. Idempotent (the same user and date every run) and it
 * sells nothing. No Synthetics API in here, so the tests run it against a fake `fetch`.
 */

const DATE_OF_BIRTH = '2000-01-01';

// AWS WAF's common rule set blocks requests without a User-Agent (NoUserAgent_HEADER).
const USER_AGENT = 'shipshape-canary (CloudWatch Synthetics)';

/**
 * @typedef {object} JourneyOptions
 * @property {string} baseUrl the public entrance, e.g. https://shipshape.example.com
 * @property {string} username letters only, as the birthdays API requires
 * @property {typeof fetch} fetch
 * @property {(name: string, run: () => Promise<void>) => Promise<unknown>} step
 *   runs one named step (Synthetics' executeStep in a canary)
 * @property {number} timeoutMs how long one request may take
 */

/** @param {Response} response @param {number} expected @param {string} what */
async function expectStatus(response, expected, what) {
  if (response.status === expected) return;
  const body = (await response.text()).slice(0, 200);
  throw new Error(`${what}: expected ${expected}, got ${response.status} ${body}`);
}

/** @param {unknown} body @param {string} username */
function expectGreeting(body, username) {
  const message =
    typeof body === 'object' && body !== null && 'message' in body ? body.message : undefined;
  const greeting = new RegExp(
    `^Hello, ${username}! (Happy birthday!|Your birthday is in \\d+ days?)$`,
  );
  if (typeof message !== 'string' || !greeting.test(message))
    throw new Error(`read the greeting: unexpected body ${JSON.stringify(body)}`);
}

/**
 * Walks the journey; throws, naming the step and what came back, at the first thing that is
 * not what a user should get.
 * @param {JourneyOptions} options
 */
async function runJourney({ baseUrl, username, fetch, step, timeoutMs }) {
  const url = new URL(`/hello/${encodeURIComponent(username)}`, baseUrl);
  const headers = { 'user-agent': USER_AGENT, accept: 'application/json' };
  await step('save a birthday', async () => {
    const response = await fetch(url, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ dateOfBirth: DATE_OF_BIRTH }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await expectStatus(response, 204, 'save a birthday');
  });
  await step('read the greeting', async () => {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await expectStatus(response, 200, 'read the greeting');
    expectGreeting(await response.json(), username);
  });
}

module.exports = { runJourney, USER_AGENT, DATE_OF_BIRTH };
