/**
 * Debian's chromium for the browser tests (playwright-core drives it; no browser download). The
 * flags keep it off the network this machine does not have: without the background-networking ones,
 * chromium opens many refused connections at every start.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
