// weir dashboard: plain modern JavaScript, no build step, no dependencies.
//
// It talks only to the public /v1 API. Pages are routed by the URL
// fragment (#/, #/jobs, #/jobs/<id>, #/submit, #/batch; the batch page is
// in batch.js). Live data comes from short
// polls (queues, workers, job lists) and, for single jobs, from the job's
// Server-Sent Events read with fetch() streaming: an EventSource cannot
// send the Authorization header, and a token must never go into a URL.

import { batchView } from './batch.js';

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const STATES = ['pending', 'scheduled', 'available', 'running', 'retryable', 'succeeded', 'failed', 'cancelled'];
const CANCELLABLE = new Set(['pending', 'scheduled', 'available', 'retryable', 'running']);
const RETRYABLE = new Set(['failed', 'cancelled']);
const DEMO_ARGS = {
  'demo.process_item': { name: 'item-1', steps: 10, step_ms: 500 },
  'demo.sleep': { ms: 30000 },
  'demo.fail': { message: 'it broke', fatal: false },
};
const TOKEN_KEY = 'weir.token';
const QUEUE_POLL_MS = 2000;
const LIST_POLL_MS = 1500;
const CHART_WINDOW_S = 10 * 60;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---------------------------------------------------------------- DOM

/** Builds an element: h('a', {href, class, onclick}, child, ...). Text is
 * always set as text, never parsed as HTML: jobs hold user data. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const svgNs = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}) {
  const el = document.createElementNS(svgNs, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

// ------------------------------------------------------------- notices

const noticeEl = document.getElementById('notice');
let noticeTimer = null;

/** Shows a message in plain words at the top of the page. */
export function notice(message, kind = 'error') {
  clearTimeout(noticeTimer);
  noticeEl.className = `notice ${kind === 'info' ? 'info' : ''}`;
  noticeEl.replaceChildren(
    h('span', { text: message }),
    h('button', { type: 'button', 'aria-label': 'Dismiss', onclick: () => { noticeEl.hidden = true; } }, '×'),
  );
  noticeEl.hidden = false;
  if (kind === 'info') noticeTimer = setTimeout(() => { noticeEl.hidden = true; }, 6000);
}

export function explain(what, err) {
  if (err?.name === 'AbortError') return;
  notice(`${what}: ${err instanceof ApiError ? err.plain() : String(err?.message || err)}`);
}

const liveEl = document.getElementById('live');
function setLive(ok) {
  liveEl.className = `live ${ok ? 'ok' : 'bad'}`;
  liveEl.textContent = ok ? 'live' : 'offline';
}

// ----------------------------------------------------------------- API

/** An answer of the API that is not a success: the problem JSON's parts. */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }

  /** The problem in plain words: "Conflict: job … is already finished (409)". */
  plain() {
    if (this.status === 0) return `the server cannot be reached (${this.detail})`;
    const parts = [this.title, this.detail].filter(Boolean);
    const text = parts.length === 2 && parts[1].toLowerCase().startsWith(parts[0].toLowerCase())
      ? parts[1] : parts.join(': ');
    return `${text || 'unexpected answer'} (HTTP ${this.status})`;
  }
}

async function problemOf(resp) {
  let title = resp.statusText;
  let detail = '';
  try {
    const p = await resp.json();
    title = p.title || title;
    detail = p.detail || '';
  } catch {
    // Not problem JSON (a proxy's page, say): the status line is all we have.
  }
  return new ApiError(resp.status, title, detail);
}

let tokenRequest = null;

/** Asks for a token once, however many requests got a 401 meanwhile. */
function askToken(refused) {
  if (tokenRequest) return tokenRequest;
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  document.getElementById('token-why').textContent = refused
    ? 'The server refused that token. Enter one of WEIR_API_TOKENS; it is kept for this browser tab only.'
    : 'This server requires a bearer token (one of WEIR_API_TOKENS). It is kept for this browser tab only.';
  input.value = '';
  tokenRequest = new Promise((resolve) => {
    const onSubmit = (e) => {
      e.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      form.removeEventListener('submit', onSubmit);
      dialog.close();
      tokenRequest = null;
      resolve(token);
    };
    form.addEventListener('submit', onSubmit);
    // Escape would leave every request waiting: keep the dialog open.
    dialog.addEventListener('cancel', (e) => e.preventDefault(), { once: true });
  });
  dialog.showModal();
  input.focus();
  return tokenRequest;
}

/** Calls the API with the tab's token. Answers the parsed JSON, or the
 * Response itself with `stream: true`; throws ApiError otherwise. */
export async function api(method, path, body, { signal, stream = false } = {}) {
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { Accept: stream ? 'text/event-stream' : 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let resp;
    try {
      resp = await fetch(path, {
        method, headers, signal, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      setLive(false);
      throw new ApiError(0, 'network error', e.message || String(e));
    }
    setLive(true);
    if (resp.status === 401) {
      if (token) sessionStorage.removeItem(TOKEN_KEY);
      await askToken(Boolean(token));
      continue;
    }
    if (!resp.ok) throw await problemOf(resp);
    if (stream) return resp;
    return resp.status === 204 ? null : resp.json();
  }
}

const jobPath = (id) => `/v1/jobs/${encodeURIComponent(id)}`;

/** Reads a text/event-stream body and calls onEvent with each event's
 * parsed `data` until the stream ends. */
export async function readEvents(resp, onEvent) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      let line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data.length) onEvent(JSON.parse(data.join('\n')));
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // `event:`, `id:` and `:` keep-alive comments need nothing: the type
      // is in the data too.
    }
  }
}

/** Follows a job's events until it is terminal (or `signal` aborts),
 * reconnecting after a dropped stream. */
async function follow(id, onJob, signal) {
  while (!signal.aborted) {
    let last = null;
    try {
      const resp = await api('GET', `${jobPath(id)}/events`, undefined, { signal, stream: true });
      await readEvents(resp, (ev) => { last = ev.job; onJob(ev.job, ev.type); });
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
        explain(`Cannot follow job ${id}`, e);
        return;
      }
    }
    if (last && TERMINAL.has(last.state)) return;
    await sleep(1000, signal);
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/** Runs `fn` now and then every `ms` after it finishes, until `signal`. */
async function every(ms, signal, fn) {
  while (!signal.aborted) {
    try {
      await fn();
    } catch (e) {
      if (!signal.aborted) explain('Refreshing failed', e);
    }
    await sleep(ms, signal);
  }
}

// ---------------------------------------------------------- formatting

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '—';
  const s = Math.max(0, seconds);
  if (s < 1) return '<1 s';
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

const since = (iso) => (Date.now() - Date.parse(iso)) / 1000;
const ago = (iso) => (iso ? `${fmtDuration(since(iso))} ago` : '—');
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const shortId = (id) => `${id.slice(0, 8)}…${id.slice(-4)}`;
const pretty = (v) => JSON.stringify(v, null, 2);

export function badge(state) {
  return h('span', { class: `badge state-${state}`, 'data-state': state, text: state });
}

/** A progress bar for a job: done/total while it runs, full when it succeeded. */
export function progressBar(job, { big = false } = {}) {
  const p = job.progress || {};
  let fraction = null;
  if (job.state === 'succeeded') fraction = 1;
  else if (p.total > 0 && p.done !== undefined) fraction = Math.min(1, p.done / p.total);
  const percent = fraction === null ? 0 : Math.round(fraction * 100);
  const fill = h('div', { class: 'fill' });
  fill.style.width = `${percent}%`;
  let cls = 'progress';
  if (job.state === 'succeeded') cls += ' done';
  if (job.state === 'failed' || job.state === 'cancelled') cls += ' bad';
  if (big) cls += ' big';
  const label = fraction === null ? '—' : `${percent}%`;
  return h('div', {
    class: cls, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100,
    'aria-valuenow': percent, 'aria-label': `progress ${label}`,
  }, h('div', { class: 'track' }, fill), h('span', { class: 'pct', text: label }));
}

// ------------------------------------------------- queues and throughput

/** Samples of succeeded+failed per queue, for the throughput charts. */
const samples = new Map();
let latestQueues = null;
const queueListeners = new Set();

function recordSamples(queues) {
  const now = Date.now();
  for (const q of queues) {
    const list = samples.get(q.name) || [];
    list.push({ t: now, finished: q.counts.succeeded + q.counts.failed });
    while (list.length && now - list[0].t > (CHART_WINDOW_S + 60) * 1000) list.shift();
    samples.set(q.name, list);
  }
}

async function pollQueues() {
  const body = await api('GET', '/v1/queues');
  latestQueues = body.queues;
  recordSamples(latestQueues);
  for (const fn of queueListeners) fn(latestQueues);
}

const BUCKET_S = 15;
const BUCKETS = CHART_WINDOW_S / BUCKET_S;

/** Jobs finished (succeeded + failed) in each 15 s bucket of the window,
 * oldest first, from the differences between successive samples. */
function throughput(name) {
  const list = samples.get(name) || [];
  const now = Date.now();
  const buckets = new Array(BUCKETS).fill(0);
  for (let i = 1; i < list.length; i++) {
    // Pruning can lower the counts: a drop is not negative work.
    const delta = Math.max(0, list[i].finished - list[i - 1].finished);
    const age = (now - list[i].t) / 1000;
    const slot = BUCKETS - 1 - Math.floor(age / BUCKET_S);
    if (slot >= 0) buckets[slot] += delta;
  }
  return buckets;
}

function chart(name) {
  const W = 300;
  const H = 64;
  const buckets = throughput(name);
  const max = Math.max(1, ...buckets);
  const barW = W / BUCKETS;
  const lastMinute = buckets.slice(-60 / BUCKET_S).reduce((a, b) => a + b, 0);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  const title = s('title');
  title.textContent = `Jobs finished in queue ${name} per ${BUCKET_S} s, last 10 minutes`;
  svg.append(title, s('line', { class: 'axis', x1: 0, y1: H - 4, x2: W, y2: H - 4 }));
  buckets.forEach((n, i) => {
    if (!n) return;
    const hgt = Math.max(2, (n / max) * (H - 20));
    svg.append(s('rect', {
      class: 'area bar', x: (i * barW + 0.5).toFixed(1), y: (H - 4 - hgt).toFixed(1),
      width: (barW - 1).toFixed(1), height: hgt.toFixed(1),
    }));
  });
  const label = s('text', { x: 2, y: 10 });
  label.textContent = `${lastMinute} finished in the last minute`;
  const span = s('text', { x: W - 2, y: 10, 'text-anchor': 'end' });
  span.textContent = 'last 10 min';
  svg.append(label, span);
  return svg;
}

/** A queue's flow-control limits in a few words, or '' without any. */
function limitsText(q) {
  return [
    q.max_running !== undefined ? `${q.max_running} running` : null,
    q.max_running_per_key !== undefined ? `${q.max_running_per_key} per key` : null,
    q.rate_limit !== undefined ? `${q.rate_limit} per ${fmtDuration(q.rate_period)}` : null,
  ].filter(Boolean).join(', ');
}

/** "Why isn't this job running?" in one sentence (GET /v1/jobs/{id}/explain). */
function reasonText(e) {
  switch (e.reason) {
    case 'scheduled': return `Scheduled: runs no sooner than ${fmtTime(e.until)}.`;
    case 'retry_backoff': return `Waiting out its retry backoff until ${fmtTime(e.until)}.`;
    case 'waiting_on_dependencies': return `Waiting on the jobs it depends on${e.waiting_on ? `: ${e.waiting_on.join(', ')}` : ''}.`;
    case 'queue_paused': return `Its queue ${e.queue} is paused.`;
    case 'no_worker_for_kind': return `No live worker serves kind ${e.kind} on queue ${e.queue}: it waits until one does (a typo in the kind?).`;
    case 'queue_concurrency_limit': return `Queue ${e.queue} is at its limit: ${e.running} of ${e.max} running.`;
    case 'key_concurrency_limit': return `Key ${e.key} is at its limit: ${e.running} of ${e.max} running.`;
    case 'rate_limited': return `Queue ${e.queue} is rate limited (${e.started} of ${e.max} starts in the window) until ${fmtTime(e.until)}.`;
    case 'queued_behind': return e.ahead ? `Next in line after ${e.ahead} job(s) ahead of it.` : 'Next in line.';
    default: return '';
  }
}

// --------------------------------------------------------------- views

/** Overview: queues with counts, age, throughput, pause/resume; workers. */
function overviewView(ctx) {
  const queuesEl = h('div', { class: 'grid', id: 'queues' }, h('p', { class: 'muted', text: 'Loading queues…' }));
  const workersEl = h('div', { class: 'table-wrap', id: 'workers' }, h('p', { class: 'muted', text: 'Loading workers…' }));
  const cards = new Map();

  function card(q) {
    const el = h('section', { class: 'panel queue-card', 'data-queue': q.name });
    const refs = {
      status: h('span', { class: 'badge' }),
      button: h('button', { type: 'button', class: 'small' }),
      counts: h('div', { class: 'counts' }),
      facts: h('div', { class: 'facts' }),
      warn: h('p', { class: 'hint' }),
      chart: h('div'),
    };
    refs.button.addEventListener('click', async () => {
      const action = refs.paused ? 'resume' : 'pause';
      refs.button.disabled = true;
      try {
        const updated = await api('POST', `/v1/queues/${encodeURIComponent(q.name)}/${action}`);
        update(updated);
        notice(`Queue ${q.name} ${action === 'pause' ? 'paused' : 'resumed'}.`, 'info');
      } catch (e) {
        explain(`Could not ${action} queue ${q.name}`, e);
      } finally {
        refs.button.disabled = false;
      }
    });
    append(el, [
      h('header', {}, h('h3', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(q.name)}`, text: q.name }), refs.status), refs.button),
      refs.counts, refs.facts, refs.warn, refs.chart,
    ]);
    function update(qq) {
      refs.paused = qq.paused;
      refs.status.className = `badge ${qq.paused ? 'paused' : 'active'}`;
      refs.status.textContent = qq.paused ? 'paused' : 'active';
      refs.button.textContent = qq.paused ? 'Resume' : 'Pause';
      refs.button.className = `small ${qq.paused ? 'primary' : ''}`;
      refs.counts.replaceChildren(...STATES.map((st) => h('a', {
        class: `count ${qq.counts[st] ? '' : 'zero'}`, href: `#/jobs?queue=${encodeURIComponent(qq.name)}&state=${st}`,
        title: `${st} jobs in ${qq.name}`,
      }, `${st} `, h('b', { text: qq.counts[st] }))));
      refs.facts.replaceChildren(
        h('span', {}, 'oldest waiting: ', h('b', {
          text: qq.oldest_available_age_seconds === undefined ? 'none' : fmtDuration(qq.oldest_available_age_seconds),
        })),
        limitsText(qq) ? h('span', { class: 'limits' }, ' · limits: ', h('b', { text: limitsText(qq) })) : null,
      );
      refs.warn.textContent = qq.unserved_kinds?.length
        ? `Waiting with no live worker to run them: ${qq.unserved_kinds.join(', ')}` : '';
      refs.chart.replaceChildren(chart(qq.name));
    }
    return { el, update };
  }

  function renderQueues(queues) {
    if (!queues.length) {
      queuesEl.replaceChildren(h('p', { class: 'muted', text: 'No queues yet: submit a job, or start a worker.' }));
      cards.clear();
      return;
    }
    if (cards.size === 0) queuesEl.replaceChildren();
    for (const q of queues) {
      let c = cards.get(q.name);
      if (!c) {
        c = card(q);
        cards.set(q.name, c);
        queuesEl.append(c.el);
      }
      c.update(q);
    }
  }

  async function loadWorkers() {
    const { workers } = await api('GET', '/v1/workers', undefined, { signal: ctx.signal });
    if (!workers.length) {
      workersEl.replaceChildren(h('p', { class: 'muted', text: 'No live worker node: jobs wait until one starts.' }));
      return;
    }
    const queuesOf = (w) => (Array.isArray(w.queues)
      ? w.queues.map((q) => (typeof q === 'string' ? q : `${q.name}×${q.concurrency}`))
      : Object.entries(w.queues || {}).map(([n, c]) => `${n}×${c}`)).join(', ');
    workersEl.replaceChildren(h('table', {},
      h('thead', {}, h('tr', {},
        h('th', { text: 'Node' }), h('th', { text: 'Queues' }), h('th', { class: 'num', text: 'Running' }),
        h('th', { text: 'Last heartbeat' }), h('th', { class: 'hide-sm', text: 'Kinds' }), h('th', { class: 'hide-sm', text: 'Up' }))),
      h('tbody', {}, workers.map((w) => h('tr', {},
        h('td', {}, h('div', { text: `${w.host} (pid ${w.pid})` }), h('div', { class: 'muted mono', text: shortId(w.id) })),
        h('td', { text: queuesOf(w) }),
        h('td', { class: 'num', text: w.running }),
        h('td', { text: ago(w.last_heartbeat) }),
        h('td', { class: 'hide-sm', text: w.kinds.join(', ') }),
        h('td', { class: 'hide-sm', text: fmtDuration(since(w.started_at)) }),
      )))));
  }

  // Cron schedules and their next run (times in the browser's zone).
  async function loadSchedules() {
    const { schedules } = await api('GET', '/v1/schedules', undefined, { signal: ctx.signal });
    if (!schedules.length) {
      schedulesEl.replaceChildren(h('p', { class: 'muted', text: 'No schedules (weir schedule set NAME CRON KIND).' }));
      return;
    }
    schedulesEl.replaceChildren(h('table', {},
      h('thead', {}, h('tr', {},
        h('th', { text: 'Schedule' }), h('th', { text: 'Cron' }), h('th', { text: 'Kind' }),
        h('th', { text: 'Next run' }), h('th', { class: 'hide-sm', text: 'Last enqueued' }))),
      h('tbody', {}, schedules.map((sc) => h('tr', {},
        h('td', { text: sc.name }),
        h('td', { class: 'mono', text: `${sc.cron} (${sc.timezone})` }),
        h('td', { text: `${sc.kind} → ${sc.queue}` }),
        h('td', { text: sc.error ? `error: ${sc.error}` : sc.paused ? 'paused' : fmtTime(sc.next_run_at) }),
        h('td', { class: 'hide-sm', text: ago(sc.last_enqueued_at) }),
      )))));
  }
  const schedulesEl = h('div', { class: 'table-wrap', id: 'schedules' }, h('p', { class: 'muted', text: 'Loading schedules…' }));

  queueListeners.add(renderQueues);
  ctx.signal.addEventListener('abort', () => queueListeners.delete(renderQueues));
  if (latestQueues) renderQueues(latestQueues);
  every(QUEUE_POLL_MS, ctx.signal, loadWorkers);
  every(QUEUE_POLL_MS, ctx.signal, loadSchedules);

  return h('div', {},
    h('h1', { text: 'Overview' }),
    h('h2', { text: 'Queues' }), queuesEl,
    h('h2', { text: 'Worker nodes' }), h('section', { class: 'panel' }, workersEl),
    h('h2', { text: 'Schedules' }), h('section', { class: 'panel' }, schedulesEl));
}

/** Jobs: filtered, keyset-paginated, refreshed live; search by id. */
function jobsView(ctx, params) {
  const filter = {
    state: params.get('state') || '', queue: params.get('queue') || '', kind: params.get('kind') || '',
  };
  const cursors = [null];
  let page = 0;
  let nextCursor = null;
  const rows = new Map();

  const tbody = h('tbody', {});
  const status = h('span', { class: 'muted' });
  const newer = h('button', { type: 'button', class: 'small', text: '← Newer', disabled: true });
  const older = h('button', { type: 'button', class: 'small', text: 'Older →', disabled: true });
  newer.addEventListener('click', () => { if (page > 0) { page -= 1; refresh(); } });
  older.addEventListener('click', () => {
    if (nextCursor) { cursors[page + 1] = nextCursor; page += 1; refresh(); }
  });

  const stateSel = h('select', { name: 'state' },
    h('option', { value: '', text: 'any state' }), STATES.map((st) => h('option', { value: st, text: st })));
  stateSel.value = filter.state;
  const queueIn = h('input', { name: 'queue', placeholder: 'any queue', list: 'queue-names', value: filter.queue });
  const kindIn = h('input', { name: 'kind', placeholder: 'any kind', value: filter.kind });
  const queueList = h('datalist', { id: 'queue-names' }, (latestQueues || []).map((q) => h('option', { value: q.name })));

  function applyFilter() {
    filter.state = stateSel.value;
    filter.queue = queueIn.value.trim();
    filter.kind = kindIn.value.trim();
    const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v)).toString();
    history.replaceState(null, '', `#/jobs${q ? `?${q}` : ''}`);
    page = 0;
    cursors.length = 1;
    rows.clear();
    tbody.replaceChildren();
    refresh();
  }
  for (const el of [stateSel, queueIn, kindIn]) el.addEventListener('change', applyFilter);

  const searchIn = h('input', { name: 'id', placeholder: 'job id (UUID)', autocomplete: 'off', spellcheck: 'false' });
  const searchForm = h('form', { class: 'filters', role: 'search' },
    h('label', {}, 'Find a job by id', searchIn),
    h('div', {}, h('button', { type: 'submit', text: 'Open' })));
  searchForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const id = searchIn.value.trim();
    if (!UUID_RE.test(id)) {
      notice(`"${id}" is not a job id: ids look like 0190a5e4-7b3c-7d2e-9f10-2a3b4c5d6e7f.`);
      return;
    }
    try {
      await api('GET', jobPath(id));
      location.hash = `#/jobs/${id}`;
    } catch (err) {
      explain('Cannot open that job', err);
    }
  });

  function row(job) {
    return h('tr', { 'data-id': job.id },
      h('td', { class: 'hide-sm' }, h('a', { class: 'mono', href: `#/jobs/${job.id}`, text: shortId(job.id), title: job.id })),
      h('td', {}, h('a', { href: `#/jobs/${job.id}`, text: job.kind, title: job.id })),
      h('td', { class: 'hide-sm', text: job.queue }),
      h('td', {}, badge(job.state)),
      h('td', { class: 'num hide-sm', text: `${job.attempt}/${job.max_attempts}` }),
      h('td', {}, progressBar(job)),
      h('td', { class: 'num hide-sm', text: fmtDuration(since(job.created_at)) }));
  }

  async function refresh() {
    const q = new URLSearchParams({ limit: '25' });
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    if (cursors[page]) q.set('cursor', cursors[page]);
    const requested = page;
    const body = await api('GET', `/v1/jobs?${q}`, undefined, { signal: ctx.signal });
    if (requested !== page) return;
    nextCursor = body.next_cursor || null;
    newer.disabled = page === 0;
    older.disabled = !nextCursor;
    status.textContent = `page ${page + 1} · ${body.jobs.length} job${body.jobs.length === 1 ? '' : 's'}`;
    // Rebuild rows but keep their order stable: newest first, as listed.
    const fresh = body.jobs.map((job) => {
      const key = JSON.stringify([job.state, job.attempt, job.progress, Math.floor(since(job.created_at))]);
      const old = rows.get(job.id);
      if (old && old.key === key) return old.el;
      const el = row(job);
      rows.set(job.id, { key, el });
      return el;
    });
    if (!fresh.length) {
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'muted', text: 'No jobs match.' })));
    } else {
      tbody.replaceChildren(...fresh);
    }
  }

  every(LIST_POLL_MS, ctx.signal, refresh);

  return h('div', {},
    h('h1', { text: 'Jobs' }),
    h('section', { class: 'panel' },
      h('div', { class: 'filters' },
        h('label', {}, 'State', stateSel), h('label', {}, 'Queue', queueIn, queueList), h('label', {}, 'Kind', kindIn)),
      h('div', { class: 'filters', style: null }, searchForm)),
    h('section', { class: 'panel' },
      h('div', { class: 'table-wrap' }, h('table', { id: 'jobs-table' },
        h('thead', {}, h('tr', {},
          h('th', { class: 'hide-sm', text: 'Id' }), h('th', { text: 'Kind' }), h('th', { class: 'hide-sm', text: 'Queue' }),
          h('th', { text: 'State' }), h('th', { class: 'num hide-sm', text: 'Attempt' }), h('th', { text: 'Progress' }),
          h('th', { class: 'num hide-sm', text: 'Age' }))),
        tbody)),
      h('div', { class: 'pager' }, status, newer, older)));
}

/** One job: args, progress, result, errors, timeline; cancel and retry. */
function jobView(ctx, id) {
  const root = h('div', {}, h('p', { class: 'muted', text: 'Loading job…' }));
  let streaming = null;
  // Why it is not running, asked again when its state changes.
  const whyEl = h('p', { class: 'hint', id: 'job-explain' });
  let explainedState = null;
  async function why(job) {
    if (job.state === explainedState) return;
    explainedState = job.state;
    if (TERMINAL.has(job.state) || job.state === 'running') {
      whyEl.textContent = '';
      return;
    }
    try {
      const e = await api('GET', `${jobPath(id)}/explain`, undefined, { signal: ctx.signal });
      whyEl.textContent = `Why isn't it running? ${reasonText(e)}`;
      whyEl.className = `hint ${e.reason === 'no_worker_for_kind' ? 'warn' : ''}`;
    } catch (e) {
      if (e.name !== 'AbortError') whyEl.textContent = '';
    }
  }

  function timeline(job) {
    const items = [{ at: job.created_at, what: 'enqueued' }];
    if (Date.parse(job.run_at) - Date.parse(job.created_at) > 1000) items.push({ at: job.run_at, what: 'due to run' });
    for (const e of job.errors) items.push({ at: e.at, what: `attempt ${e.attempt} failed`, cls: 'err' });
    if (job.started_at) items.push({ at: job.started_at, what: `attempt ${job.attempt} started` });
    if (job.progress?.updated_at) items.push({ at: job.progress.updated_at, what: 'last progress report' });
    if (job.cancel_requested) items.push({ at: job.cancel_requested, what: 'cancel requested', cls: 'err' });
    if (job.finished_at) items.push({ at: job.finished_at, what: job.state, cls: job.state === 'succeeded' ? 'end' : 'err' });
    items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return h('ol', { class: 'timeline' }, items.map((i) => h('li', { class: i.cls || '' },
      h('time', { datetime: i.at, text: fmtTime(i.at) }), i.what)));
  }

  async function act(action) {
    try {
      const job = await api('POST', `${jobPath(id)}/${action}`);
      render(job);
      if (action === 'cancel' && job.state === 'running') {
        notice('Cancel requested: the handler is being told to stop.', 'info');
      } else {
        notice(action === 'cancel' ? 'Job cancelled.' : 'Job queued again.', 'info');
      }
      stream(job);
    } catch (e) {
      explain(`Could not ${action} the job`, e);
    }
  }

  function render(job) {
    why(job);
    const p = job.progress || {};
    const buttons = [];
    if (CANCELLABLE.has(job.state)) {
      buttons.push(h('button', {
        type: 'button', class: 'danger', id: 'cancel-job', disabled: Boolean(job.cancel_requested),
        text: job.cancel_requested ? 'Cancelling…' : 'Cancel', onclick: () => act('cancel'),
      }));
    }
    if (RETRYABLE.has(job.state)) {
      buttons.push(h('button', { type: 'button', class: 'primary', id: 'retry-job', text: 'Retry', onclick: () => act('retry') }));
    }
    const progressLine = [
      p.total !== undefined ? `${p.done ?? 0} of ${p.total}` : p.done !== undefined ? `${p.done} done` : null,
      p.message,
    ].filter((x) => x !== null && x !== undefined && x !== '').join(' · ');
    root.replaceChildren(
      h('p', {}, h('a', { href: '#/jobs', text: '← Jobs' })),
      h('div', { class: 'detail-head' },
        h('h1', {}, h('span', { text: job.kind }), badge(job.state)),
        h('div', { class: 'actions' }, buttons)),
      h('section', { class: 'panel' },
        h('dl', { class: 'kv' },
          h('dt', { text: 'Id' }), h('dd', { class: 'mono', text: job.id }),
          h('dt', { text: 'Queue' }), h('dd', {}, h('a', { href: `#/jobs?queue=${encodeURIComponent(job.queue)}`, text: job.queue })),
          h('dt', { text: 'Attempt' }), h('dd', { text: `${job.attempt} of ${job.max_attempts}` }),
          h('dt', { text: 'Priority' }), h('dd', { text: job.priority }),
          job.timeout_seconds ? [h('dt', { text: 'Timeout' }), h('dd', { text: fmtDuration(job.timeout_seconds) })] : null,
          job.unique_key ? [h('dt', { text: 'Unique key' }), h('dd', { class: 'mono', text: job.unique_key })] : null,
          job.concurrency_key ? [h('dt', { text: 'Concurrency key' }), h('dd', { class: 'mono', text: job.concurrency_key })] : null),
        whyEl,
        h('h2', { text: 'Progress' }),
        progressBar(job, { big: true }),
        h('p', { class: 'muted', id: 'progress-message', text: progressLine || 'No progress reported.' })),
      h('div', { class: 'two' },
        h('section', { class: 'panel' }, h('h2', { text: 'Args' }), h('pre', { id: 'job-args', text: pretty(job.args) })),
        h('section', { class: 'panel' }, h('h2', { text: 'Result' }),
          job.result !== undefined
            ? h('pre', { id: 'job-result', text: pretty(job.result) })
            : h('p', { class: 'muted', text: TERMINAL.has(job.state) ? 'No result.' : 'Not finished yet.' }))),
      h('div', { class: 'two' },
        h('section', { class: 'panel' }, h('h2', { text: 'Timeline' }), timeline(job)),
        h('section', { class: 'panel' }, h('h2', { text: `Errors (${job.errors.length})` }),
          job.errors.length
            ? h('ol', { class: 'errors' }, [...job.errors].reverse().map((e) => h('li', {},
              h('div', {}, h('b', { text: `Attempt ${e.attempt}` }), ' · ', h('time', { datetime: e.at, text: fmtTime(e.at) })),
              h('div', { class: 'msg', text: e.message }))))
            : h('p', { class: 'muted', text: 'No failed attempts.' }))));
  }

  function stream(job) {
    if (TERMINAL.has(job.state) || streaming) return;
    streaming = follow(id, (j) => render(j), ctx.signal).finally(() => { streaming = null; });
  }

  (async () => {
    try {
      const job = await api('GET', jobPath(id), undefined, { signal: ctx.signal });
      render(job);
      stream(job);
    } catch (e) {
      if (e.name === 'AbortError') return;
      root.replaceChildren(h('p', {}, h('a', { href: '#/jobs', text: '← Jobs' })),
        h('p', { text: `This job cannot be shown: ${e instanceof ApiError ? e.plain() : e.message}` }));
    }
  })();
  return root;
}

/** Jobs submitted from this tab, newest first, kept across page changes. */
const submitted = [];

/** Submit: a form for POST /v1/jobs, then the new job live. */
function submitView(ctx) {
  const kinds = new Set(Object.keys(DEMO_ARGS));
  const kindIn = h('input', { name: 'kind', required: true, list: 'kind-names', value: 'demo.process_item', autocomplete: 'off' });
  const kindList = h('datalist', { id: 'kind-names' });
  const argsIn = h('textarea', { name: 'args', spellcheck: 'false', rows: 7 });
  argsIn.value = pretty(DEMO_ARGS['demo.process_item']);
  const argsErr = h('div', { class: 'field-error', id: 'args-error', 'aria-live': 'polite' });
  const queueIn = h('input', { name: 'queue', value: 'default', pattern: '[A-Za-z0-9_.:\\-]{1,128}', list: 'queue-names' });
  const priorityIn = h('input', { name: 'priority', type: 'number', value: 0, min: -32768, max: 32767, step: 1 });
  const delayIn = h('input', { name: 'delay', type: 'number', min: 0, step: 'any', placeholder: 'run now' });
  const attemptsIn = h('input', { name: 'max_attempts', type: 'number', min: 1, max: 1000, step: 1, placeholder: 'server default' });
  const formErr = h('div', { class: 'field-error', 'aria-live': 'polite' });
  const submitBtn = h('button', { type: 'submit', class: 'primary', text: 'Submit job' });
  const list = h('tbody', { id: 'submitted' });

  function fillKinds(extra = []) {
    for (const k of extra) kinds.add(k);
    kindList.replaceChildren(...[...kinds].sort().map((k) => h('option', { value: k })));
  }
  fillKinds();
  api('GET', '/v1/workers', undefined, { signal: ctx.signal })
    .then(({ workers }) => fillKinds(workers.flatMap((w) => w.kinds)))
    .catch(() => {});

  /** The form's request body, or a message saying what is wrong. */
  function read() {
    const body = { kind: kindIn.value.trim() };
    if (!body.kind) return { error: 'Give the kind of job, e.g. demo.process_item.' };
    let args;
    try {
      args = argsIn.value.trim() ? JSON.parse(argsIn.value) : {};
    } catch (e) {
      return { error: `Args are not valid JSON: ${e.message}`, field: 'args' };
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      return { error: 'Args must be a JSON object, like {"name": "x"}.', field: 'args' };
    }
    body.args = args;
    const queue = queueIn.value.trim();
    if (queue) {
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(queue)) return { error: "Queue names are 1 to 128 letters, digits, '_', '.', ':' or '-'." };
      body.queue = queue;
    }
    if (priorityIn.value !== '') {
      const p = Number(priorityIn.value);
      if (!Number.isInteger(p) || p < -32768 || p > 32767) return { error: 'Priority is a whole number from -32768 to 32767.' };
      body.priority = p;
    }
    if (delayIn.value !== '') {
      const d = Number(delayIn.value);
      if (!(d >= 0) || d > 315360000) return { error: 'Delay is a number of seconds, 0 or more.' };
      if (d > 0) body.delay_seconds = d;
    }
    if (attemptsIn.value !== '') {
      const a = Number(attemptsIn.value);
      if (!Number.isInteger(a) || a < 1 || a > 1000) return { error: 'Max attempts is a whole number from 1 to 1000.' };
      body.max_attempts = a;
    }
    return { body };
  }

  function validate() {
    const r = read();
    argsErr.textContent = r.field === 'args' ? r.error : '';
    argsIn.classList.toggle('invalid', r.field === 'args');
    formErr.textContent = r.error && r.field !== 'args' ? r.error : '';
    submitBtn.disabled = Boolean(r.error);
    return r;
  }
  for (const el of [kindIn, argsIn, queueIn, priorityIn, delayIn, attemptsIn]) el.addEventListener('input', validate);
  kindIn.addEventListener('change', () => {
    const preset = DEMO_ARGS[kindIn.value.trim()];
    if (preset && argsIn.dataset.edited !== 'yes') { argsIn.value = pretty(preset); validate(); }
  });
  argsIn.addEventListener('input', () => { argsIn.dataset.edited = 'yes'; });

  function preset(kind) {
    kindIn.value = kind;
    argsIn.value = pretty(DEMO_ARGS[kind]);
    argsIn.dataset.edited = '';
    validate();
  }

  function row(entry) {
    const job = entry.job;
    return h('tr', { 'data-id': job.id },
      h('td', { class: 'hide-sm' }, h('a', { class: 'mono', href: `#/jobs/${job.id}`, text: shortId(job.id), title: job.id })),
      h('td', {}, h('a', { href: `#/jobs/${job.id}`, text: job.kind, title: job.id })),
      h('td', {}, badge(job.state)),
      h('td', {}, progressBar(job)),
      h('td', { class: 'result mono', text: job.result !== undefined ? JSON.stringify(job.result) : job.errors.at(-1)?.message || '' }));
  }

  function renderList() {
    list.replaceChildren(...(submitted.length
      ? submitted.map(row)
      : [h('tr', {}, h('td', { colspan: 5, class: 'muted', text: 'Jobs you submit appear here and update live.' }))]));
  }

  function track(entry) {
    if (TERMINAL.has(entry.job.state)) return;
    follow(entry.job.id, (job) => { entry.job = job; renderList(); }, ctx.signal);
  }

  const form = h('form', { class: 'panel', novalidate: true, id: 'submit-form' },
    h('div', { class: 'presets' }, h('span', { class: 'hint', text: 'Examples:' }),
      Object.keys(DEMO_ARGS).map((k) => h('button', { type: 'button', class: 'small', text: k, onclick: () => preset(k) }))),
    h('div', { class: 'form-grid' },
      h('label', { class: 'wide' }, 'Kind', kindIn, kindList),
      h('label', { class: 'wide' }, 'Args (JSON object)', argsIn, argsErr),
      h('label', {}, 'Queue', queueIn),
      h('label', {}, 'Priority ', h('span', { class: 'hint', text: '(higher runs first)' }), priorityIn),
      h('label', {}, 'Delay ', h('span', { class: 'hint', text: '(seconds)' }), delayIn),
      h('label', {}, 'Max attempts', attemptsIn)),
    formErr,
    h('div', { class: 'actions' }, submitBtn));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = validate();
    if (r.error) return;
    submitBtn.disabled = true;
    try {
      const job = await api('POST', '/v1/jobs', r.body);
      const entry = { job };
      submitted.unshift(entry);
      renderList();
      if (job.warnings?.length) {
        notice(`Job ${job.id} submitted, but: ${job.warnings.join(' ')}`);
      } else {
        notice(`Job ${job.id} submitted.`, 'info');
      }
      track(entry);
    } catch (err) {
      explain('The job was not submitted', err);
    } finally {
      submitBtn.disabled = false;
      validate();
    }
  });

  // Coming back to this page: pick the submitted jobs up where they are.
  renderList();
  for (const entry of submitted) {
    if (!TERMINAL.has(entry.job.state)) track(entry);
  }

  return h('div', {},
    h('h1', { text: 'Submit a job' }),
    form,
    h('section', { class: 'panel' },
      h('h2', { text: 'Submitted from this tab' }),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, h('th', { class: 'hide-sm', text: 'Id' }), h('th', { text: 'Kind' }), h('th', { text: 'State' }),
          h('th', { text: 'Progress' }), h('th', { text: 'Result' }))),
        list))));
}

// -------------------------------------------------------------- router

const view = document.getElementById('view');
let current = null;

function route() {
  current?.abort();
  // A confirmation belongs to the page it was shown on; errors stay until dismissed.
  if (noticeEl.classList.contains('info')) noticeEl.hidden = true;
  current = new AbortController();
  const ctx = { signal: current.signal };
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  let name;
  let el;
  const jobMatch = path.match(/^\/jobs\/([^/]+)$/);
  if (jobMatch) {
    name = 'jobs';
    el = jobView(ctx, decodeURIComponent(jobMatch[1]));
  } else if (path === '/jobs') {
    name = 'jobs';
    el = jobsView(ctx, params);
  } else if (path === '/submit') {
    name = 'submit';
    el = submitView(ctx);
  } else if (path === '/batch') {
    name = 'batch';
    el = batchView(ctx, params);
  } else {
    name = 'overview';
    el = overviewView(ctx);
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === name);
  }
  view.replaceChildren(el);
  document.title = `weir · ${name}`;
}

window.addEventListener('hashchange', route);
route();
// Queue counts are sampled on every page, so the charts have history.
every(QUEUE_POLL_MS, new AbortController().signal, pollQueues);
