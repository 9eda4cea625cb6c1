// End-to-end test of the dashboard in Debian's headless Chromium, driven by
// playwright-core. tests/ui.rs starts a web node and a worker and runs this
// script; it can also run alone against `weir dev`:
//
//   WEIR_URL=http://127.0.0.1:8000 node tests/ui/e2e.mjs
//
// Environment: WEIR_URL (required), WEIR_TOKEN (when the server has
// WEIR_API_TOKENS: the script expects the token prompt and answers it),
// WEIR_ARTIFACTS (screenshots, default target/ui-artifacts),
// CHROMIUM (default /usr/bin/chromium).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.WEIR_URL;
if (!base) {
  console.error('WEIR_URL is not set');
  process.exit(2);
}
const token = process.env.WEIR_TOKEN || '';
const artifacts = resolve(process.env.WEIR_ARTIFACTS || 'target/ui-artifacts');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
// Generous: this is about behaviour, not speed, on a busy 2-core machine.
const TIMEOUT = 30_000;

mkdirSync(artifacts, { recursive: true });
rmSync(join(artifacts, 'failure.png'), { force: true });
const profile = mkdtempSync(join(tmpdir(), 'weir-ui-e2e-'));
const started = Date.now();

function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

/** The API, from the script itself, to check what the page claims. */
async function api(path, body) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  if (body) headers['Content-Type'] = 'application/json';
  const resp = await fetch(`${base}${path}`, {
    headers, method: body ? 'POST' : 'GET', body: body && JSON.stringify(body),
  });
  if (!resp.ok) throw new Error(`${path}: HTTP ${resp.status}`);
  return resp.json();
}

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 860 },
  args: [
    '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-quic', '--disable-component-update', '--disable-sync',
  ],
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] || (await context.newPage());
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  // Expected: the first /v1 calls answer 401 until the token is given, and
  // the unknown job id answers 404. Chromium logs both as failed loads.
  if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) problems.push(`console: ${m.text()}`);
});

const shot = async (name) => {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  log(`screenshot ${name}.png`);
};

/** The progress bar value of the submitted-jobs row of `id`. */
const progressOf = (id) => page.locator(`#submitted tr[data-id="${id}"] [role=progressbar]`).getAttribute('aria-valuenow').then(Number);

let failed = false;
try {
  log(`opening ${base}/ui`);
  await page.goto(`${base}/ui`);
  if (token) {
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible' });
    log('token prompt shown');
    await page.fill('#token-input', token);
    await page.click('#token-form button[type=submit]');
    await dialog.waitFor({ state: 'hidden' });
    const kept = await page.evaluate(() => sessionStorage.getItem('weir.token'));
    check(kept === token, 'the token is kept in sessionStorage');
  }
  await page.locator('.queue-card[data-queue=default]').waitFor();
  await page.locator('#workers table').waitFor();
  log('overview lists the default queue and a worker node');

  // ---- Submit demo.process_item; watch it progress and finish.
  await page.click('nav a[data-nav=submit]');
  await page.locator('#submit-form').waitFor();
  await page.fill('#submit-form textarea[name=args]', '{"name": oops}');
  await page.locator('#args-error').filter({ hasText: 'not valid JSON' }).waitFor();
  check(await page.locator('#submit-form button[type=submit]').isDisabled(), 'invalid args disable submit');
  log('invalid JSON args are refused client-side');

  await page.click('#submit-form .presets button:text-is("demo.process_item")');
  await page.fill('#submit-form input[name=kind]', 'demo.process_item');
  await page.fill('#submit-form textarea[name=args]', '{"name": "e2e", "steps": 8, "step_ms": 500}');
  await page.click('#submit-form button[type=submit]');
  const row = page.locator('#submitted tr[data-id]').first();
  await row.waitFor();
  const itemId = await row.getAttribute('data-id');
  log(`submitted demo.process_item ${itemId}`);

  // Seen part-way (strictly between 0 and 100) at least once, then done.
  await page.waitForFunction((id) => {
    const bar = document.querySelector(`#submitted tr[data-id="${id}"] [role=progressbar]`);
    const v = Number(bar?.getAttribute('aria-valuenow'));
    return v > 0 && v < 100;
  }, itemId, { timeout: TIMEOUT, polling: 50 });
  const midway = await progressOf(itemId);
  log(`progress bar part-way: ${midway}%`);
  await shot('submit');
  await page.locator(`#submitted tr[data-id="${itemId}"] [data-state=succeeded]`).waitFor();
  const result = await page.locator(`#submitted tr[data-id="${itemId}"] td.result`).textContent();
  check(result.includes('Processed item e2e'), `the result appears (${result})`);
  check((await progressOf(itemId)) === 100, 'the bar is full when the job succeeded');
  log('progress advanced to 100% and the result appeared');

  // ---- Jobs list: the job is there; filters work.
  await page.click('nav a[data-nav=jobs]');
  await page.locator(`#jobs-table tr[data-id="${itemId}"] [data-state=succeeded]`).waitFor();
  await page.fill('input[name=kind]', 'demo.process_item');
  await page.press('input[name=kind]', 'Enter');
  await page.selectOption('select[name=state]', 'running');
  await page.locator('#jobs-table td:text("No jobs match.")').waitFor();
  await page.selectOption('select[name=state]', 'succeeded');
  await page.locator(`#jobs-table tr[data-id="${itemId}"]`).waitFor();
  check(page.url().includes('state=succeeded'), 'the filter is kept in the URL');
  await page.selectOption('select[name=state]', '');
  await page.fill('input[name=kind]', '');
  await page.press('input[name=kind]', 'Enter');
  await page.locator(`#jobs-table tr[data-id="${itemId}"]`).waitFor();
  await shot('jobs');

  // ---- Job detail of the finished job: result, timeline.
  await page.fill('input[name=id]', itemId);
  await page.click('form[role=search] button[type=submit]');
  await page.locator('#job-result').waitFor();
  check((await page.locator('#job-result').textContent()).includes('Processed item e2e'), 'detail shows the result');
  check((await page.locator('.timeline li').count()) >= 3, 'detail shows a timeline');
  await shot('job-detail');
  log('job detail shows the result and the timeline');

  // ---- Cancel a running demo.sleep from its detail page: 202, then the
  // handler is told to stop.
  await page.click('nav a[data-nav=submit]');
  await page.click('#submit-form .presets button:text-is("demo.sleep")');
  await page.fill('#submit-form textarea[name=args]', '{"ms": 600000}');
  await page.click('#submit-form button[type=submit]');
  await page.locator('#submitted tr[data-id] >> nth=0 >> td >> text=demo.sleep').waitFor();
  const sleepId = await page.locator('#submitted tr[data-id]').first().getAttribute('data-id');
  check(sleepId !== itemId, 'a second job was submitted');
  await page.locator(`#submitted tr[data-id="${sleepId}"] [data-state=running]`).waitFor();
  await page.click(`#submitted tr[data-id="${sleepId}"] a`);
  await page.locator('.detail-head [data-state=running]').waitFor();
  await page.click('#cancel-job');
  await page.locator('#cancel-job:text-is("Cancelling…"), .detail-head [data-state=cancelled]').first().waitFor();
  check(Boolean((await api(`/v1/jobs/${sleepId}`)).cancel_requested), 'the API records the cancel request');
  log('cancel of the running demo.sleep requested (202)');
  await page.locator('.detail-head [data-state=cancelled]').waitFor();
  check((await api(`/v1/jobs/${sleepId}`)).state === 'cancelled', 'the API says cancelled too');
  log('the running demo.sleep stopped and is cancelled');

  // ---- Cancel a scheduled job: 200, cancelled at once; retry is offered.
  await page.click('nav a[data-nav=submit]');
  await page.click('#submit-form .presets button:text-is("demo.sleep")');
  await page.fill('#submit-form input[name=delay]', '3600');
  await page.click('#submit-form button[type=submit]');
  await page.locator('#submitted tr[data-id] >> nth=0 >> [data-state=scheduled]').waitFor();
  const laterId = await page.locator('#submitted tr[data-id]').first().getAttribute('data-id');
  check(laterId !== sleepId, 'a third job was submitted');
  await page.click(`#submitted tr[data-id="${laterId}"] a`);
  await page.locator('.detail-head [data-state=scheduled]').waitFor();
  await page.click('#cancel-job');
  await page.locator('.detail-head [data-state=cancelled]').waitFor();
  check((await api(`/v1/jobs/${laterId}`)).state === 'cancelled', 'the API says cancelled too');
  check(await page.locator('#retry-job').isVisible(), 'a cancelled job offers retry');
  await shot('job-cancelled');
  log('the scheduled demo.sleep was cancelled');
  await page.click('#retry-job');
  await page.locator('.detail-head [data-state=available], .detail-head [data-state=running]').first().waitFor();
  check(['available', 'running'].includes((await api(`/v1/jobs/${laterId}`)).state), 'the API says it is queued again');
  log('retry sent the cancelled job back to the queue');

  // ---- API errors read as plain words: a job id that does not exist.
  await page.click('nav a[data-nav=jobs]');
  const ghost = '01234567-89ab-7def-8123-456789abcdef';
  await page.fill('input[name=id]', ghost);
  await page.click('form[role=search] button[type=submit]');
  const problem = page.locator('#notice');
  await problem.filter({ hasText: `job ${ghost} not found` }).waitFor();
  log(`a 404 is shown as: ${(await problem.locator('span').textContent()).trim()}`);
  await problem.locator('button[aria-label=Dismiss]').click();
  await problem.waitFor({ state: 'hidden' });

  // ---- Keyset pages: 30 jobs on a queue no worker serves, 25 a page.
  const queue = `pages-${Date.now() % 100000}`;
  await api('/v1/jobs/batch', {
    jobs: Array.from({ length: 30 }, (_, i) => ({ kind: 'e2e.waits', queue, args: { i } })),
  });
  await page.fill('input[name=queue]', queue);
  await page.press('input[name=queue]', 'Enter');
  const rows = page.locator('#jobs-table tbody tr[data-id]');
  await page.waitForFunction(() => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 25);
  const first = await rows.first().getAttribute('data-id');
  await page.click('button:text-is("Older →")');
  await page.waitForFunction(() => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 5);
  check(await page.locator('button:text-is("Older →")').isDisabled(), 'the last page has no older page');
  const second = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  check(!second.includes(first), 'the second page does not repeat the first');
  await page.click('button:text-is("← Newer")');
  await page.waitForFunction(() => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 25);
  check((await rows.first().getAttribute('data-id')) === first, 'back to the first page');
  log('30 jobs paged 25 + 5 with Older/Newer');

  // ---- Batch: 20 items as one workflow, every row live to succeeded.
  await page.click('nav a[data-nav=batch]');
  await page.locator('#batch-form').waitFor();
  await page.fill('#batch-form textarea[name=items]', '["a", 3]');
  await page.locator('#items-error').filter({ hasText: 'array of strings' }).waitFor();
  check(await page.locator('#batch-form button[type=submit]').isDisabled(), 'a bad item list disables submit');
  const items = Array.from({ length: 20 }, (_, i) => `item ${String(i + 1).padStart(2, '0')}`);
  await page.fill('#batch-form textarea[name=items]', items.join('\n'));
  await page.locator('#items-count:text-is("20 items")').waitFor();
  await page.fill('#batch-form input[name=steps]', '5');
  await page.fill('#batch-form input[name=step_ms]', '300');
  await page.click('#batch-form button[type=submit]');
  await page.waitForURL(/#\/batch\?id=/);
  const batchId = new URL(page.url()).hash.split('id=')[1];
  await page.locator('#batch-table tbody tr[data-ref]').first().waitFor();
  check((await page.locator('#batch-table tbody tr[data-ref]').count()) === 20, 'the table lists the 20 items');
  log(`batch of 20 submitted as workflow ${batchId}`);
  // The overall bar is seen part-way at least once, then full.
  await page.waitForFunction(() => {
    const v = Number(document.querySelector('#batch-overall')?.getAttribute('aria-valuenow'));
    return v > 0 && v < 100;
  }, null, { timeout: TIMEOUT, polling: 50 });
  log(`overall progress part-way: ${await page.locator('#batch-overall').getAttribute('aria-valuenow')}%`);
  await page.waitForFunction(() => document.querySelectorAll('#batch-table tbody tr [data-state=succeeded]').length === 20,
    null, { timeout: TIMEOUT * 2 });
  await page.locator('#batch-status .detail-head [data-state=succeeded]').waitFor();
  check(Number(await page.locator('#batch-overall').getAttribute('aria-valuenow')) === 100, 'the overall bar is full');
  const batchResults = await page.locator('#batch-table tbody tr td.result').allTextContents();
  check(batchResults.length === 20 && batchResults.every((r, i) => r.includes(`Processed item ${items[i]}`)),
    `every row shows its own result (${batchResults.join(' | ')})`);
  check((await page.locator('#batch-summary').textContent()).startsWith('20 of 20 finished'), 'the summary counts 20 finished');
  const wf = await api(`/v1/workflows/${batchId}`);
  check(wf.state === 'succeeded' && wf.counts.succeeded === 20, `the API says the workflow succeeded (${wf.state})`);
  await shot('batch');
  log('batch: 20 rows succeeded with their results, overall 100%');

  // ---- Cancel a running batch from its page: every item ends cancelled.
  await page.click('nav a[data-nav=batch]');
  await page.fill('#batch-form textarea[name=items]', 'slow 1\nslow 2\nslow 3');
  await page.fill('#batch-form input[name=step_ms]', '60000');
  await page.click('#batch-form button[type=submit]');
  await page.waitForURL((u) => u.hash.includes('id=') && !u.hash.includes(batchId));
  const slowId = new URL(page.url()).hash.split('id=')[1];
  await page.locator('#batch-table tbody tr [data-state=running]').first().waitFor();
  await page.click('#cancel-batch');
  await page.locator('#batch-status .detail-head [data-state=failed]').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#batch-table tbody tr [data-state=cancelled]').length === 3);
  const slow = await api(`/v1/workflows/${slowId}`);
  check(slow.counts.cancelled === 3, `the API says the 3 items were cancelled (${JSON.stringify(slow.counts)})`);
  log('a running batch was cancelled from its page');

  // ---- Pause and resume the default queue.
  await page.click('nav a[data-nav=overview]');
  const card = page.locator('.queue-card[data-queue=default]');
  await card.locator('button:text-is("Pause")').click();
  await card.locator('.badge:text-is("paused")').waitFor();
  check((await api('/v1/queues')).queues.find((q) => q.name === 'default').paused === true, 'the API says paused');
  log('queue default paused');
  await card.locator('button:text-is("Resume")').click();
  await card.locator('.badge:text-is("active")').waitFor();
  check((await api('/v1/queues')).queues.find((q) => q.name === 'default').paused === false, 'the API says resumed');
  log('queue default resumed');
  await page.waitForFunction(() => {
    const b = document.querySelector('.queue-card[data-queue=default] a.count[href$="state=succeeded"] b');
    return Number(b?.textContent) >= 1;
  });
  await shot('overview');

  // ---- A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('nav a[data-nav=jobs]');
  await page.locator('#jobs-table tr[data-id] [role=progressbar]').first().waitFor();
  check(await page.locator('#notice').isHidden(), 'a confirmation goes away with its page');
  const fits = await page.evaluate(() => document.querySelector('#jobs-table').scrollWidth
    <= document.querySelector('#jobs-table').parentElement.clientWidth + 1);
  check(fits, 'the job table fits a phone screen without scrolling sideways');
  await shot('jobs-phone');

  check(problems.length === 0, `no page or console errors: ${problems.join('; ')}`);
  log('UI E2E PASSED');
} catch (e) {
  failed = true;
  console.error(`[e2e] FAILED: ${e.stack || e}`);
  if (problems.length) console.error(`[e2e] page problems: ${problems.join('; ')}`);
  await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
