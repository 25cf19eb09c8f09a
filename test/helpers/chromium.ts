/** Debian's Chromium; the tests and benchmarks never download a browser of their own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
// As root in a sandbox without a GPU; no background requests to a network that is closed.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];
