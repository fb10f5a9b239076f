// Debian's chromium driven by playwright-core, for the HTML report tests: one
// launch with the flags that keep it offline and quiet, and one page watcher
// that collects console errors, page errors and any request that leaves the
// file (the reports must work with no network).
import type { BrowserContext, Page } from "playwright-core";
import { tempDir } from "./tmp.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** A headless chromium on a new empty profile (launchPersistentContext passes it as --user-data-dir). */
export async function launchChromium(): Promise<BrowserContext> {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(tempDir("chromium"), {
    executablePath: CHROMIUM,
    viewport: { width: 1200, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Starts recording the page's console errors, uncaught errors and non-file requests. */
export function watchPage(page: Page): { errors: string[]; requests: string[] } {
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (q) => {
    if (!q.url().startsWith("file:")) requests.push(q.url());
  });
  return { errors, requests };
}
