// chromium.mjs - Debian's headless Chromium for the browser tests (driven
// by puppeteer-core; CHROMIUM names another binary), in a profile of its
// own that close() removes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export async function launchChromium() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-chromium-'));
  // Without the background-networking switches Chromium keeps calling home,
  // and the test machines have no way out.
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = async () => {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { browser, close };
}
