/* global require, exports, process */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: the Puppeteer runtime requires
   the handler file, and provides `Synthetics` only to require() */
/**
 * The canary's entry point (handler `index.handler`): CloudWatch Synthetics runs it on its
 * schedule; a thrown error fails the run. The runtime provides the `Synthetics` module.
 */
const { runJourney } = require('./journey');

exports.handler = async () => {
  const synthetics = require('Synthetics');
  await runJourney({
    baseUrl: process.env.BASE_URL ?? '',
    username: process.env.CANARY_USERNAME ?? '',
    fetch: globalThis.fetch,
    // Each step gets its own pass/fail and duration in the canary's report.
    step: (name, run) => synthetics.executeStep(name, run),
    timeoutMs: Number(process.env.REQUEST_TIMEOUT_MS),
  });
};
