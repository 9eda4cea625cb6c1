// Batch page (#/batch): a list of items submitted as one group workflow of
// demo.process_item jobs, then every item's state, progress and result
// live from the workflow's Server-Sent Events.

import {
  h, api, readEvents, sleep, badge, progressBar, explain, notice, ApiError, TERMINAL,
} from './app.js';

const MAX_ITEMS = 1000; // a workflow's limit
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const wfPath = (id) => `/v1/workflows/${encodeURIComponent(id)}`;

/** The form's last input, kept across page changes in this tab. */
const draft = { items: '', steps: 5, stepMs: 200 };

/** Items from the text: a JSON array of strings, or one item per line. */
export function parseItems(text) {
  const t = text.trim();
  let items;
  if (t.startsWith('[')) {
    let parsed;
    try {
      parsed = JSON.parse(t);
    } catch (e) {
      return { error: `Not a valid JSON array: ${e.message}` };
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      return { error: 'A JSON list must be an array of strings, like ["a", "b"].' };
    }
    items = parsed.map((x) => x.trim()).filter(Boolean);
  } else {
    items = t.split(/\r?\n/).map((x) => x.trim()).filter(Boolean);
  }
  if (!items.length) return { error: 'Give at least one item, one a line.' };
  if (items.length > MAX_ITEMS) return { error: `At most ${MAX_ITEMS} items in one batch (${items.length} given).` };
  return { items };
}

/** Follows a workflow's events until every job finished (or `signal`
 * aborts), reconnecting after a dropped stream. */
async function followWorkflow(id, onWorkflow, signal) {
  while (!signal.aborted) {
    let last = null;
    try {
      const resp = await api('GET', `${wfPath(id)}/events`, undefined, { signal, stream: true });
      await readEvents(resp, (ev) => { last = ev.workflow; onWorkflow(ev.workflow); });
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
        explain(`Cannot follow batch ${id}`, e);
        return;
      }
    }
    if (last && last.state !== 'running') return;
    await sleep(1000, signal);
  }
}

/** The item number of a ref `item-N`, for ordering rows as submitted. */
const order = (job) => Number(/^item-(\d+)$/.exec(job.ref || '')?.[1] ?? Number.MAX_SAFE_INTEGER);

/** How far one job is, 0 to 1: finished jobs count whole. */
function fractionOf(job) {
  if (TERMINAL.has(job.state)) return 1;
  const p = job.progress || {};
  return p.total > 0 && p.done !== undefined ? Math.min(1, p.done / p.total) : 0;
}

function resultText(job) {
  if (job.result !== undefined) {
    return typeof job.result?.result === 'string' ? job.result.result : JSON.stringify(job.result);
  }
  return job.errors?.at(-1)?.message || '';
}

/** The batch page; `params.id` is the workflow to show. */
export function batchView(ctx, params) {
  const id = params.get('id');
  const itemsIn = h('textarea', {
    name: 'items', spellcheck: 'false', rows: 8,
    placeholder: 'one item per line,\nor a JSON array: ["apple", "banana"]',
  });
  itemsIn.value = draft.items;
  const stepsIn = h('input', { name: 'steps', type: 'number', min: 1, max: 1000, step: 1, value: draft.steps });
  const stepMsIn = h('input', { name: 'step_ms', type: 'number', min: 0, max: 60000, step: 1, value: draft.stepMs });
  const err = h('div', { class: 'field-error', id: 'items-error', 'aria-live': 'polite' });
  const count = h('span', { class: 'hint', id: 'items-count' });
  const submitBtn = h('button', { type: 'submit', class: 'primary', text: 'Submit batch' });

  function read() {
    const r = parseItems(itemsIn.value);
    if (r.error) return r;
    const steps = Number(stepsIn.value);
    const stepMs = Number(stepMsIn.value);
    if (!Number.isInteger(steps) || steps < 1 || steps > 1000) return { error: 'Steps is a whole number from 1 to 1000.' };
    if (!Number.isInteger(stepMs) || stepMs < 0 || stepMs > 60000) return { error: 'Step time is a whole number of ms from 0 to 60000.' };
    return { ...r, steps, stepMs };
  }

  function validate() {
    draft.items = itemsIn.value;
    draft.steps = stepsIn.value;
    draft.stepMs = stepMsIn.value;
    const r = read();
    // An empty box is not an error yet, just nothing to submit.
    err.textContent = r.error && itemsIn.value.trim() ? r.error : '';
    count.textContent = r.items ? `${r.items.length} item${r.items.length === 1 ? '' : 's'}` : '';
    submitBtn.disabled = Boolean(r.error);
    return r;
  }
  for (const el of [itemsIn, stepsIn, stepMsIn]) el.addEventListener('input', validate);
  validate();

  const form = h('form', { class: 'panel', novalidate: true, id: 'batch-form' },
    h('div', { class: 'form-grid' },
      h('label', { class: 'wide' }, 'Items ', h('span', { class: 'hint', text: '(one a line, or a JSON array of strings)' }), itemsIn, err),
      h('label', {}, 'Steps per item', stepsIn),
      h('label', {}, 'Step time ', h('span', { class: 'hint', text: '(ms)' }), stepMsIn)),
    h('div', { class: 'actions' }, count, submitBtn));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = validate();
    if (r.error) return;
    submitBtn.disabled = true;
    try {
      const wf = await api('POST', '/v1/workflows', {
        name: `batch of ${r.items.length}`,
        jobs: r.items.map((name, i) => ({
          ref: `item-${i + 1}`, kind: 'demo.process_item', args: { name, steps: r.steps, step_ms: r.stepMs },
        })),
      });
      // The page of this workflow: live, and still there after a reload.
      location.hash = `#/batch?id=${wf.id}`;
    } catch (ex) {
      explain('The batch was not submitted', ex);
      submitBtn.disabled = false;
    }
  });

  const status = h('section', { class: 'panel', id: 'batch-status' });
  if (!id) {
    status.append(h('p', { class: 'muted', text: 'Submit a batch: each item becomes a demo.process_item job, all in one workflow, shown here live.' }));
  } else if (!UUID_RE.test(id)) {
    status.append(h('p', { text: 'That is not a workflow id.' }));
  } else {
    status.append(h('p', { class: 'muted', text: 'Loading batch…' }));
    followWorkflow(id, (wf) => render(wf), ctx.signal);
  }

  function render(wf) {
    const jobs = [...(wf.jobs || [])].sort((a, b) => order(a) - order(b));
    const c = wf.counts;
    const finished = c.succeeded + c.failed + c.cancelled;
    // Each item weighs the same: the workflow's summed progress counts only
    // the jobs that reported a total, so jobs not started yet would not
    // count at all.
    const done = jobs.reduce((sum, j) => sum + fractionOf(j), 0) / Math.max(1, jobs.length);
    // The overall bar drawn as a job's: full and green once all succeeded.
    const overall = progressBar({
      state: wf.state,
      progress: { done: Math.round(done * 1000), total: 1000 },
    }, { big: true });
    overall.id = 'batch-overall';
    const parts = ['running', 'available', 'pending', 'scheduled', 'retryable', 'succeeded', 'failed', 'cancelled']
      .filter((s) => c[s]).map((s) => `${c[s]} ${s}`);
    status.replaceChildren(
      h('div', { class: 'detail-head' },
        h('h2', {}, h('span', { text: wf.name || 'batch' }), ' ', badge(wf.state)),
        wf.state === 'running'
          ? h('button', { type: 'button', class: 'danger small', id: 'cancel-batch', text: 'Cancel batch', onclick: cancel })
          : null),
      overall,
      h('p', { class: 'muted', id: 'batch-summary', text: `${finished} of ${wf.job_count} finished · ${parts.join(' · ')}` }),
      h('div', { class: 'table-wrap' }, h('table', { id: 'batch-table' },
        h('thead', {}, h('tr', {},
          h('th', { class: 'num', text: '#' }), h('th', { text: 'Item' }), h('th', { text: 'State' }),
          h('th', { text: 'Progress' }), h('th', { text: 'Result' }))),
        h('tbody', {}, jobs.map((job, i) => h('tr', { 'data-ref': job.ref, 'data-id': job.id },
          h('td', { class: 'num', text: i + 1 }),
          h('td', {}, h('a', { href: `#/jobs/${job.id}`, text: job.args?.name ?? job.ref, title: job.id })),
          h('td', {}, badge(job.state)),
          h('td', {}, progressBar(job)),
          h('td', { class: 'result mono', text: resultText(job) })))))));
  }

  async function cancel() {
    try {
      render(await api('POST', `${wfPath(id)}/cancel`));
      notice('Batch cancelled: running items are being told to stop.', 'info');
    } catch (ex) {
      explain('Could not cancel the batch', ex);
    }
  }

  return h('div', {}, h('h1', { text: 'Batch' }), form, status);
}
