/* Vecinos — web chat page. Plain JavaScript, no dependencies, works offline on localhost.
 *
 * Two loops run independently:
 *  - the sender posts queued messages one at a time, in order, retrying with the SAME
 *    client_id until the server accepts them (the server deduplicates by client_id);
 *  - the poller long-polls GET /messages and renders what comes back.
 * Over a rate limit (429) a message is never dropped: the server's text is shown and the
 * message stays queued until Retry-After has passed. A photo over a limit, or too big
 * (413) or with no room left (507), is dropped with the server's text, so that it never
 * holds back the messages queued behind it.
 * A message the neighbor sends is shown at once as a "pending" bubble and swapped for the
 * server's copy when the poll brings it back as an "in" message.
 */
(() => {
  'use strict';

  const API = document.body.dataset.api || '/chat/api';
  const MAX_PHOTO = 10 * 1024 * 1024;
  const TOKEN_KEY = 'vecinos.token';
  const OUTBOX_KEY = 'vecinos.outbox';
  const MAX_DELAY = 30000;

  const $ = (sel) => document.querySelector(sel);
  const list = $('#messages');
  const form = $('#composer');
  const input = $('#text');
  const photo = $('#photo');
  const statusEl = $('#status');
  const errorEl = $('#error');

  // UI texts come from the server's catalog (js_texts), keyed "webchat.xxx".
  let texts = {};
  try { texts = JSON.parse($('#texts').textContent) || {}; } catch { /* labels missing, chat still works */ }
  const T = (key) => texts['webchat.' + key] ?? texts[key] ?? '';

  // localStorage may be unavailable (private mode, full): fall back to memory silently.
  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* keep going in memory */ } },
  };

  function randomHex(bytes) {
    const a = crypto.getRandomValues(new Uint8Array(bytes));
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // randomUUID only exists in secure contexts (not on http://192.168.x.x): build a v4 by hand.
    const h = randomHex(16).split('');
    h[12] = '4';
    h[16] = '89ab'[parseInt(h[16], 16) & 3];
    const s = h.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }

  // A fetch that gives up after ms, so a silently dropped connection cannot hang a loop.
  function timeoutSignal(ms) {
    const c = new AbortController();
    setTimeout(() => c.abort(), ms);
    return c.signal;
  }

  // Sleeps that end early when the network comes back or the page is shown again.
  const wakers = new Set();
  function sleep(ms) {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); wakers.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });
  }
  const wakeAll = () => [...wakers].forEach((done) => done());
  window.addEventListener('online', wakeAll);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) wakeAll(); });

  /* ---------- identity ---------- */

  let token = store.get(TOKEN_KEY);
  const firstVisit = !/^[0-9a-f]{32}$/.test(token || '');
  if (firstVisit) {
    token = randomHex(16);
    store.set(TOKEN_KEY, token);
  }

  /* ---------- status and errors ---------- */

  const nearBottom = () =>
    window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 160;
  const scrollToEnd = () => window.scrollTo(0, document.documentElement.scrollHeight);

  const state = { send: '', poll: '' };
  function setState(loop, value) {
    state[loop] = value;
    const text = state.send === 'retrying' || state.poll === 'retrying' ? T('retrying')
      : state.send === 'sending' ? T('sending') : '';
    if (statusEl.textContent !== text) statusEl.textContent = text;
  }

  function showError(text) {
    const follow = nearBottom(); // the composer grows: keep the newest message in view
    errorEl.textContent = text;
    errorEl.hidden = !text;
    if (follow) scrollToEnd();
  }

  /* ---------- rendering ---------- */

  const timeFmt = new Intl.DateTimeFormat('es-CL', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const dayFmt = new Intl.DateTimeFormat('es-CL', { day: 'numeric', month: 'short' });
  const seen = new Set();          // ids of server messages already on the page
  const optionsOf = new WeakMap(); // "out" bubble -> its options
  let lastId = 0;
  let textSeq = 0;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text; // never innerHTML: message text is untrusted
    return node;
  }

  function bubble(dir, m) {
    const li = el('li', 'bubble ' + dir);
    const meta = el('p', 'meta');
    meta.append(el('span', 'who', dir === 'in' ? T('you') : T('office')));
    const at = m.at ? new Date(m.at) : new Date();
    if (!isNaN(at)) {
      const time = el('time', 'when');
      time.dateTime = at.toISOString();
      const today = at.toDateString() === new Date().toDateString();
      time.textContent = (today ? '' : dayFmt.format(at) + ' ') + timeFmt.format(at);
      meta.append(' ', time);
    }
    li.append(meta);
    if (m.media) li.append(el('p', 'media photo'));
    if (m.location && Number.isFinite(m.location.latitude) && Number.isFinite(m.location.longitude)) {
      li.append(el('p', 'media place',
        `${m.location.latitude.toFixed(5)}, ${m.location.longitude.toFixed(5)}`));
    }
    const text = el('div', 'text', m.text || '');
    text.id = 'msg-text-' + ++textSeq;
    li.append(text);
    return li;
  }

  // Options are offered only under the newest message, and only when it is the office's.
  let optionsShownFor = null;
  function refreshOptions() {
    const last = list.lastElementChild;
    const target = last && last.classList.contains('out') && (optionsOf.get(last) || []).length ? last : null;
    if (target === optionsShownFor) return; // avoid re-announcing the same buttons
    list.querySelectorAll('.options').forEach((o) => o.remove());
    optionsShownFor = target;
    if (!target) return;
    const box = el('div', 'options');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-labelledby', target.querySelector('.text').id);
    for (const opt of optionsOf.get(target)) {
      const b = el('button', '', String(opt.label ?? opt.key));
      b.type = 'button';
      if (/^\d{1,2}$/.test(String(opt.key))) b.dataset.key = opt.key; // badge shows what to type
      b.addEventListener('click', (e) => {
        enqueue({ kind: 'text', text: String(opt.label ?? opt.key), option: String(opt.key) });
        // The button disappears; keep keyboard users somewhere sensible (detail 0 = keyboard click).
        if (e.detail === 0) input.focus();
      });
      box.append(b);
    }
    target.append(box);
  }

  /* ---------- pending (locally shown) messages ---------- */

  const pending = []; // items shown as pending bubbles, in page order, until echoed by the poll

  function showPending(item) {
    item.el = bubble('in', {
      text: item.text,
      location: item.location,
      media: item.kind === 'photo' ? { kind: 'photo' } : null,
    });
    item.el.classList.add('pending');
    if (item.file) {
      const img = el('img', 'thumb');
      img.alt = '';
      img.src = URL.createObjectURL(item.file);
      item.el.querySelector('.media').append(img);
    }
    list.append(item.el);
    pending.push(item);
  }

  function dropPending(item) {
    const i = pending.indexOf(item);
    if (i >= 0) pending.splice(i, 1);
    if (item.el) item.el.remove();
  }

  // Which pending bubble does this "in" message from the server confirm?
  function takePending(m) {
    const kind = m.media ? 'photo' : m.location ? 'location' : 'text';
    let i = pending.findIndex((p) => p.kind === kind &&
      (kind !== 'text' || p.text.trim() === String(m.text || '').trim()));
    // The server may store a reworded text: then the oldest accepted bubble is the one.
    if (i < 0) i = pending.findIndex((p) => p.accepted);
    return i < 0 ? null : pending.splice(i, 1)[0];
  }

  function render(messages) {
    const follow = nearBottom();
    for (const m of [...messages].sort((a, b) => a.id - b.id)) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      lastId = Math.max(lastId, m.id);
      const dir = m.direction === 'out' ? 'out' : 'in';
      const li = bubble(dir, m);
      li.dataset.id = m.id;
      if (dir === 'out') {
        optionsOf.set(li, Array.isArray(m.options) ? m.options : []);
      } else {
        const p = takePending(m);
        if (p) {
          const thumb = p.el.querySelector('img.thumb'); // keep the local preview of a photo
          const media = li.querySelector('.media.photo');
          if (thumb && media) media.append(thumb);
          p.el.remove();
        }
      }
      // Server messages go above the neighbor's still-pending ones.
      list.insertBefore(li, pending.length ? pending[0].el : null);
    }
    refreshOptions();
    if (follow) scrollToEnd();
  }

  /* ---------- sending ---------- */

  let outbox = []; // not yet accepted by the server; photos are kept in memory only
  try {
    outbox = JSON.parse(store.get(OUTBOX_KEY) || '[]').filter((i) => i && i.client_id && i.kind !== 'photo');
  } catch { outbox = []; }
  const saveOutbox = () => store.set(OUTBOX_KEY, JSON.stringify(outbox
    .filter((i) => i.kind !== 'photo')
    .map(({ client_id, kind, text, option, location }) => ({ client_id, kind, text, option, location }))));

  function enqueue(item) {
    item.client_id = uuid();
    item.text = item.text || '';
    outbox.push(item);
    saveOutbox();
    showError('');
    showPending(item);
    refreshOptions();
    scrollToEnd();
    wakeAll(); // a new message is a good moment to retry right away
    pump();
  }

  function post(item) {
    if (item.kind === 'photo') {
      const body = new FormData();
      body.append('token', token);
      body.append('client_id', item.client_id);
      body.append('file', item.file, item.file.name || 'foto.jpg');
      if (item.text) body.append('caption', item.text);
      return fetch(API + '/photos', { method: 'POST', body, signal: timeoutSignal(180000) });
    }
    const data = { token, client_id: item.client_id };
    if (item.kind === 'location') data.location = item.location;
    else data.text = item.text;
    if (item.option != null) data.option = item.option;
    return fetch(API + '/messages', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(data),
      signal: timeoutSignal(30000),
    });
  }

  async function errorText(res) {
    try {
      const data = await res.json();
      if (data && data.error) return String(data.error);
    } catch { /* not JSON */ }
    return res.status === 413 ? T('photo_too_big') : '';
  }

  // 4xx means "this message is wrong": do not retry. 408/429 are only "try later".
  // 507: no room for photos now; a retry would be refused the same way.
  const permanent = (s) => (s >= 400 && s < 500 && s !== 408 && s !== 429) || s === 507;
  const MAX_RETRY_AFTER = 24 * 3600 * 1000;

  // Retry-After in seconds (the server sends no dates); 5 s if missing.
  function retryAfter(res) {
    const seconds = Number.parseInt(res.headers.get('Retry-After') || '', 10);
    return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER) : 5000;
  }

  let pumping = false;
  async function pump() {
    if (pumping) return;
    pumping = true;
    let delay = 1000;
    while (outbox.length) {
      const item = outbox[0];
      if (state.send !== 'retrying') setState('send', 'sending');
      try {
        const res = await post(item);
        if (res.ok) {
          item.accepted = true;
          if (item.el) item.el.classList.add('sent');
          if (item.limited) showError(''); // the rate limit's notice is over
        } else if (res.status === 429 && item.kind !== 'photo') {
          // Over a rate limit: say so, keep the message first in line, send it when allowed.
          item.limited = true;
          showError(await errorText(res));
          setState('send', '');
          await sleep(retryAfter(res));
          continue;
        } else if (permanent(res.status) || res.status === 429) {
          showError(await errorText(res));
          dropPending(item);
          refreshOptions(); // an option press that failed brings its buttons back
          if (item.kind === 'text' && item.option == null && !input.value) input.value = item.text;
        } else {
          throw new Error('HTTP ' + res.status);
        }
        outbox.shift();
        saveOutbox();
        delay = 1000;
        setState('send', '');
      } catch {
        setState('send', 'retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_DELAY);
      }
    }
    setState('send', '');
    pumping = false;
  }

  /* ---------- receiving ---------- */

  async function poll() {
    let delay = 1000;
    for (;;) {
      const started = Date.now();
      try {
        // The token in a header, never in the URL: URLs end up in logs.
        const url = `${API}/messages?after=${lastId}&wait=25`;
        const res = await fetch(url, {
          cache: 'no-store',
          headers: { Authorization: `Bearer ${token}` },
          signal: timeoutSignal(45000),
        });
        if (!res.ok) throw new Error('HTTP ' + res.status);
        const data = await res.json();
        const messages = Array.isArray(data.messages) ? data.messages : [];
        render(messages);
        if (Number.isInteger(data.last_id)) lastId = Math.max(lastId, data.last_id);
        list.setAttribute('aria-busy', 'false');
        setState('poll', '');
        delay = 1000;
        // Guard against a server that answers an empty list at once: never spin.
        if (!messages.length && Date.now() - started < 1000) await sleep(1000);
      } catch {
        setState('poll', 'retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_DELAY);
      }
    }
  }

  /* ---------- composer ---------- */

  function autosize() {
    input.style.height = 'auto';
    const border = input.offsetHeight - input.clientHeight;
    input.style.height = Math.min(input.scrollHeight + border, 220) + 'px';
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) { input.focus(); return; }
    input.value = '';
    autosize();
    enqueue({ kind: 'text', text });
  });

  // Enter sends, Shift+Enter adds a line (not while an IME is composing a word).
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event('submit', { cancelable: true }));
    }
  });
  input.addEventListener('input', () => { autosize(); if (!errorEl.hidden) showError(''); });
  window.addEventListener('resize', autosize); // e.g. a phone turned sideways

  // Keep the phone keyboard open when tapping "Enviar" while typing.
  $('#send').addEventListener('mousedown', (e) => {
    if (document.activeElement === input) e.preventDefault();
  });

  let locating = false;
  $('#location').addEventListener('click', (e) => {
    const button = e.currentTarget;
    showError('');
    if (!navigator.geolocation) { showError(T('location_denied')); return; }
    if (locating) return; // a second tap while waiting must not send two locations
    locating = true;
    button.setAttribute('aria-busy', 'true');
    const done = () => { locating = false; button.removeAttribute('aria-busy'); };
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        done();
        enqueue({ kind: 'location', location: { latitude: pos.coords.latitude, longitude: pos.coords.longitude } });
      },
      () => { done(); showError(T('location_denied')); },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  });

  photo.addEventListener('change', () => {
    const file = photo.files && photo.files[0];
    photo.value = ''; // so the same photo can be chosen again
    if (!file) return;
    if (file.size > MAX_PHOTO) { showError(T('photo_too_big')); return; }
    const caption = input.value.trim(); // the text being typed goes along as the caption
    input.value = '';
    autosize();
    enqueue({ kind: 'photo', text: caption, file });
  });

  /* ---------- start ---------- */

  outbox.forEach(showPending); // unsent messages from an earlier visit, resent as they were
  if (firstVisit && T('start')) enqueue({ kind: 'text', text: T('start') });
  pump();
  poll();
})();
