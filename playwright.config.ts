// End-to-end tests of the web demo (test/e2e) in Debian's Chromium (apt-get install chromium;
// `npx playwright install` cannot download here). The demo server is started by Playwright.
import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.E2E_PORT ?? 3917);

export default defineConfig({
  testDir: './test/e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: 1, // one demo server, and some flows flip its WebSocket flag for every page
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  outputDir: 'test-results',
  // The JSON file is what .ci/run counts.
  reporter: [[process.env.CI ? 'line' : 'list'], ['json', { outputFile: 'playwright-report/results.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1440, height: 960 },
    screenshot: 'only-on-failure', // every flow also saves its own screenshots under test-results/screenshots/
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'node --import tsx examples/web-demo.ts',
    env: { PORT: String(PORT), HOST: '127.0.0.1' },
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: 90_000, // builds dist/browser first when it is missing
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
