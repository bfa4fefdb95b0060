// Debian's Chromium (headless, /usr/bin/chromium, which .ci/run installs) driven by playwright-core,
// for the tests of the pages. Each test gets a fresh context (no cookies or storage carried over),
// and everything that would tell a person something is broken is collected: errors in the console
// (a refused script or style is one), uncaught exceptions, failed requests and answers of 400 or
// more. A test names the answers it expects to fail (a 401 before signing in); the rest are problems.
import { mkdirSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page, type Response } from 'playwright-core'
import type { Test } from 'tap'
import { projectRoot } from '../../src/project.js'

// The README's screenshots are rewritten only when asked (WRITE_SCREENSHOTS=1): a run of the tests
// otherwise left five changed images in the work tree, which a commit then took in unawares. Else
// they go to one temporary folder, each run's over the last's.
export const SCREENSHOTS = process.env.WRITE_SCREENSHOTS === '1' ? join(projectRoot, 'web/screenshots') : join(os.tmpdir(), 'parley-screenshots')
mkdirSync(SCREENSHOTS, { recursive: true })

export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']
  })
  t.teardown(async () => { await browser.close() })
  return browser
}

export interface WatchedPage {
  page: Page
  /** What went wrong in the page so far: console errors, exceptions, failed and unexpected ≥ 400 answers. */
  problems: string[]
}

/** A page in a new context; `expected` says which ≥ 400 answers are part of the test. */
export async function openPage (t: Test, browser: Browser, expected: (url: URL, status: number) => boolean = () => false): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  t.teardown(async () => { await context.close() })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('response', (response: Response) => {
    if (response.status() >= 400 && !expected(new URL(response.url()), response.status())) {
      problems.push(`${response.status()} ${response.request().method()} ${response.url()}`)
    }
  })
  page.on('console', message => {
    if (message.type() !== 'error') return
    // The browser reports each ≥ 400 answer in the console too: an expected one is no problem.
    const status = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text())?.[1]
    if (status !== undefined && expected(new URL(message.location().url), Number(status))) return
    problems.push(`console: ${message.text()}`)
  })
  page.on('pageerror', error => { problems.push(`exception: ${error.message}`) })
  page.on('requestfailed', request => { problems.push(`failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`) })
  return { page, problems }
}

/** The answer openPage expects on the console: before signing in, GET /console/api/session is 401, which is how the page knows to ask. */
export const signInCheck = (url: URL, status: number): boolean => url.pathname === '/console/api/session' && status === 401

/** A duration as the console writes it ("12.5 ms", "340 ms", "12.3 s"), in ms. */
export const durationMs = (text: string): number => text.endsWith(' s') ? Number(text.slice(0, -2)) * 1000 : Number(text.replace(/ ms$/, ''))

/** Signs in on the console's sign-in form, shown on any /console page until a key is given. */
export async function signIn (page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
}
