// The demo page: plain ES modules, no build step. Everything drpc comes from the browser bundle.
import { connect, DrpcError, inspect, serveCalls } from '/drpc.js';
import { http } from '/drpc-http.js'; // the HTTP fallback: an app that imports it pays for it

const $ = (id) => document.getElementById(id);
const rpcUrl = '/rpc'; // relative to the page: ws(s):// on this page's host

// ---- the client ----------------------------------------------------------------------------

// A tap on the client (round trips, durable calls sent again) for the connection panel.
const tap = inspect({ limit: 4000 });

// Short backoff and a 3 s upgrade probe so that a person sees the moves happen; the defaults suit production.
const client = connect(rpcUrl, {
  plugins: [tap],
  transports: ['websocket', http],
  serve: serveCalls, // the server calls this page (/ui/confirm, /ui/state): a page that serves no calls leaves it out
  upgradeInterval: 3000,
  reconnect: { min: 200, max: 3000 },
  heartbeat: { rate: 5 },
  connectTimeout: 5000,
});

const view = {
  opens: 0,
  wsBlocked: false,
  topics: new Map(), // topic → { sub, received, gaps }
  chatShown: new Map(), // offset → <li>, of the room shown
  rooms: new Map(), // topic → { room, messages: Map(offset → message), unread, tab }
  active: 'chat/lobby', // the room shown
};

// ---- small helpers -------------------------------------------------------------------------

const clock = (t = Date.now()) =>
  new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function describe(err) {
  if (err instanceof DrpcError) return `${err.code} ${err.message}${err.causeText ? ` — ${err.causeText}` : ''}`;
  return String(err?.message ?? err);
}

let toastTimer;
function toast(text, kind = 'bad') {
  let t = $('toast');
  if (!t) {
    t = el('div', 'toast');
    t.id = 'toast';
    t.setAttribute('role', 'status');
    document.body.append(t);
  }
  t.textContent = text;
  t.dataset.kind = kind;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 4000);
}

// Many updates per frame during a burst: draw at most once per animation frame.
const dirty = new Set();
function redraw(what) {
  if (dirty.size === 0) requestAnimationFrame(flush);
  dirty.add(what);
}
function flush() {
  for (const what of dirty) painters[what]();
  dirty.clear();
}

// ---- connection panel ----------------------------------------------------------------------

function setState(info) {
  const state = info.state;
  $('state-pill').dataset.state = state;
  $('state-text').textContent = state;
  $('conn-state').dataset.state = state;
  $('conn-state').textContent = state;
  const transport = client.transport ?? '';
  $('transport').dataset.transport = transport;
  $('transport').textContent = transport || '—';
  $('conn-transport').textContent = transport ? (transport === 'http' ? 'HTTP fallback (POST + stream)' : 'WebSocket') : '—';

  const li = el('li');
  li.dataset.state = state;
  const time = el('time', '', clock());
  const status = info.status && info.status.code ? ` (status ${info.status.code})` : '';
  li.append(time, el('span', `ev ${state}`, state), el('span', 'why', `${info.reason}${status}`));
  $('events').prepend(li);
  while ($('events').children.length > 60) $('events').lastChild.remove();

  redraw('topics');
  redraw('stream');
  if (state === 'open') {
    view.opens++;
    $('conn-opens').textContent = String(view.opens);
    void whoami();
  }
}

async function whoami() {
  try {
    const me = await client.call('/demo/whoami');
    $('conn-session').textContent = me.session;
    $('conn-client').textContent = client.id;
    setFlags(me);
  } catch {
    // the connection dropped again: the next open asks again
  }
}

function setFlags({ wsBlocked, online }) {
  view.wsBlocked = wsBlocked;
  $('conn-ws').textContent = wsBlocked ? 'blocked by the server' : 'allowed';
  $('conn-ws').className = wsBlocked ? 'blocked' : '';
  $('block-ws').disabled = wsBlocked;
  $('restore-ws').disabled = !wsBlocked;
  if (online !== undefined) $('online').textContent = `${online} online`;
}

const painters = {
  tap() {
    const s = tap.stats();
    $('conn-rtt').textContent = s.rtt ? `${s.rtt.p50.toFixed(1)} / ${s.rtt.p99.toFixed(1)} ms` : '—';
    $('conn-resent').textContent = String(s.resent);
  },
  topics() {
    const body = $('topics');
    for (const [topic, t] of view.topics) {
      let row = body.querySelector(`tr[data-topic="${topic}"]`);
      if (!row) {
        row = el('tr');
        row.dataset.topic = topic;
        row.append(el('td', '', topic), el('td'), el('td'), el('td'));
        body.append(row);
      }
      const [, offset, received, gaps] = row.children;
      offset.textContent = String(t.sub.offset);
      received.textContent = String(t.received);
      gaps.textContent = String(t.gaps);
      gaps.className = t.gaps ? 'has-gaps' : '';
    }
  },
  stream() {
    const s = run;
    if (!s) return;
    $('stream-received').textContent = s.received.toLocaleString('en-US');
    $('stream-missing').textContent = (s.done ? s.of - s.received : 0).toLocaleString('en-US');
    $('stream-dups').textContent = String(s.dups);
    $('stream-order').textContent = String(s.outOfOrder);
    $('stream-bar').style.width = `${(100 * s.received) / s.of}%`;
    const status = $('stream-status');
    if (!s.done) {
      status.dataset.status = 'running';
      status.textContent = `Streaming ${s.of.toLocaleString('en-US')} numbered messages… ${client.transport ? `(over ${client.transport})` : '(connection down: the topic will resume)'}`;
      return;
    }
    const ok = s.received === s.of && s.dups === 0 && s.outOfOrder === 0;
    status.dataset.status = ok ? 'ok' : 'bad';
    const secs = ((s.endedAt - s.startedAt) / 1000).toFixed(1);
    const across = s.reconnects ? `, across ${s.reconnects} reconnect${s.reconnects === 1 ? '' : 's'}` : '';
    status.textContent = ok
      ? `✓ All ${s.of.toLocaleString('en-US')} arrived exactly once, in order, in ${secs} s${across}.`
      : `✗ ${s.of - s.received} missing, ${s.dups} doubled, ${s.outOfOrder} out of order.`;
  },
  calls() {
    const c = callRun;
    if (!c) return;
    $('calls-answered').textContent = c.answered.toLocaleString('en-US');
    $('calls-failed').textContent = c.failed.toLocaleString('en-US');
    $('calls-ran').textContent = c.tally ? c.tally.ran.toLocaleString('en-US') : '—';
    $('calls-twice').textContent = c.tally ? String(c.tally.twice) : '—';
    $('calls-bar').style.width = `${(100 * (c.answered + c.failed)) / c.of}%`;
    const status = $('calls-status');
    if (!c.done) {
      status.dataset.status = 'running';
      status.textContent = `${(c.sent - c.answered - c.failed).toLocaleString('en-US')} calls in flight… ${client.transport ? `(over ${client.transport})` : '(connection down: durable calls wait and are re-sent)'}`;
      return;
    }
    const t = c.tally;
    const ok = c.answered === c.of && c.failed === 0 && t && t.ran === c.of && t.distinct === c.of && t.twice === 0;
    status.dataset.status = ok ? 'ok' : 'bad';
    const across = c.reconnects ? `, across ${c.reconnects} reconnect${c.reconnects === 1 ? '' : 's'}` : '';
    status.textContent = ok
      ? `✓ All ${c.of.toLocaleString('en-US')} calls answered, and the server ran each exactly once${across}.`
      : `✗ ${c.failed} failed${c.firstError ? ` (${c.firstError})` : ''}; the server ran ${t ? `${t.ran} times for ${t.distinct} calls, ${t.twice} twice` : 'an unknown number of calls'}.`;
  },
};

function track(topic, handler) {
  const t = { sub: undefined, received: 0, gaps: 0 };
  t.sub = client.subscribe(topic, (payload, info) => {
    t.received++;
    redraw('topics');
    return handler(payload, info);
  });
  t.sub.onGap((gap) => {
    t.gaps++;
    redraw('topics');
    if (topic === view.active) {
      const note = el(
        'li',
        'gap-note',
        `Missed messages ${gap.from}–${gap.to === Number.MAX_SAFE_INTEGER ? '…' : gap.to} (history no longer reaches back).`,
      );
      $('feed').append(note);
    }
  });
  t.sub.ready.then(
    () => redraw('topics'),
    () => {},
  );
  view.topics.set(topic, t);
  redraw('topics');
  return t.sub;
}

client.on('state', setState);
client.onPush('/demo/flags', setFlags);

// ---- chat ----------------------------------------------------------------------------------

const nameInput = $('chat-name');
nameInput.value = localStorage.getItem('drpc-demo-name') || `Guest ${Math.floor(100 + Math.random() * 900)}`;
nameInput.addEventListener('change', () => localStorage.setItem('drpc-demo-name', nameInput.value.trim()));

/** A chat message of room `topic`: kept for the room, drawn if that room is shown, else counted unread. */
function addMessage(topic, message, offset) {
  const r = view.rooms.get(topic);
  if (!r || r.messages.has(offset)) return;
  r.messages.set(offset, message);
  while (r.messages.size > 200) r.messages.delete(Math.min(...r.messages.keys()));
  if (topic === view.active) drawMessage(topic, message, offset);
  else {
    r.unread++;
    drawTab(r);
  }
}

function drawMessage(topic, message, offset) {
  if (view.chatShown.has(offset)) return;
  const feed = $('feed');
  feed.querySelector('.empty')?.remove();
  const mine = !message.bot && message.name === nameInput.value.trim();
  const li = el('li', `msg${message.bot ? ' bot' : ''}${mine ? ' mine' : ''}`);
  li.dataset.offset = String(offset);
  const avatar = el('div', 'avatar', (message.name.trim()[0] || '?').toUpperCase());
  const body = el('div');
  const who = el('div', 'who', message.name);
  who.append(el('span', 'time', clock(message.at)));
  body.append(who, el('p', 'text', message.text));
  li.append(avatar, body, el('span', 'offset', `#${offset}`));
  li.title = `topic ${topic}, offset ${offset}`;
  // Keep offset order (history may land after live messages).
  const next = [...view.chatShown.entries()].filter(([o]) => o > offset).sort((a, b) => a[0] - b[0])[0];
  const stick = feed.scrollHeight - feed.scrollTop - feed.clientHeight < 60;
  if (next) feed.insertBefore(li, next[1]);
  else feed.append(li);
  view.chatShown.set(offset, li);
  while (view.chatShown.size > 200) {
    const oldest = Math.min(...view.chatShown.keys());
    view.chatShown.get(oldest).remove();
    view.chatShown.delete(oldest);
  }
  if (stick || mine) feed.scrollTop = feed.scrollHeight;
}

// ---- rooms: the lobby, and rooms made on demand (a topic family, chat/room/*, on the server) -------

function drawTab(r) {
  r.tab.textContent = r.room ? `#${r.room}` : 'Lobby';
  if (r.unread) r.tab.append(el('span', 'unread', String(r.unread)));
  r.tab.setAttribute('aria-selected', String(r.topic === view.active));
}

function addRoom(topic, room, tab) {
  const r = { topic, room, messages: new Map(), unread: 0, tab: tab ?? el('button', 'room-tab') };
  r.tab.type = 'button';
  r.tab.setAttribute('role', 'tab');
  r.tab.dataset.topic = topic;
  r.tab.addEventListener('click', () => showRoom(topic));
  if (!tab) $('room-tabs').append(r.tab);
  view.rooms.set(topic, r);
  drawTab(r);
  return r;
}

/** Shows room `topic` in the feed: its kept messages, in offset order. */
function showRoom(topic) {
  const r = view.rooms.get(topic);
  if (!r) return;
  view.active = topic;
  r.unread = 0;
  for (const other of view.rooms.values()) drawTab(other);
  $('chat-title').textContent = r.room ? `#${r.room}` : 'Lobby';
  $('chat-text').placeholder = r.room ? `Say something in #${r.room}…` : 'Say something to every open tab…';
  void countHere();
  const feed = $('feed');
  feed.replaceChildren();
  view.chatShown.clear();
  if (!r.messages.size) feed.append(el('li', 'empty', r.room ? `No messages in #${r.room} yet.` : 'No messages yet.'));
  for (const [offset, message] of [...r.messages].sort((a, b) => a[0] - b[0])) drawMessage(topic, message, offset);
}

/** How many pages are in the room shown: its topic's subscribers, asked every few seconds. */
async function countHere() {
  const topic = view.active;
  const room = view.rooms.get(topic)?.room;
  try {
    const { here } = await client.call('/chat/here', room ? { room } : {});
    if (view.active === topic) $('here').textContent = `${here} here`;
  } catch {
    // the connection is down: the next tick asks again
  }
}
setInterval(() => client.state === 'open' && void countHere(), 3000);

async function loadHistory(topic) {
  const room = view.rooms.get(topic)?.room;
  const history = await client.call('/chat/history', room ? { limit: 50, room } : { limit: 50 });
  for (const { offset, message } of history) addMessage(topic, message, offset);
}

/** Joins a room: subscribes to its topic (the server makes it, if its name is allowed), then reads its history. */
async function joinRoom(name) {
  const room = name.trim().toLowerCase().replace(/\s+/g, '-');
  const topic = `chat/room/${room}`;
  if (view.rooms.has(topic)) return showRoom(topic);
  const r = addRoom(topic, room);
  const sub = track(topic, (message, info) => addMessage(topic, message, info.offset));
  try {
    await sub.ready;
    showRoom(topic);
    await loadHistory(topic);
  } catch (err) {
    // Refused by the server (its authorize check says which names make a room): the tab goes away.
    r.tab.remove();
    view.rooms.delete(topic);
    view.topics.delete(topic);
    redraw('topics');
    toast(`Cannot join #${room}: ${describe(err)}`);
    if (view.active === topic) showRoom('chat/lobby');
  }
}

$('room-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('room-name').value;
  $('room-name').value = '';
  if (name.trim()) void joinRoom(name);
});

addRoom('chat/lobby', undefined, document.querySelector('.room-tab[data-topic="chat/lobby"]'));
$('feed').append(el('li', 'empty', 'Connecting to the lobby…'));
const lobby = track('chat/lobby', (message, info) => addMessage('chat/lobby', message, info.offset));

$('chat-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = nameInput.value.trim();
  const text = $('chat-text').value.trim();
  if (!name || !text) return;
  localStorage.setItem('drpc-demo-name', name);
  $('chat-text').value = '';
  const room = view.rooms.get(view.active)?.room;
  try {
    await client.call('/chat/send', room ? { name, text, room } : { name, text });
  } catch (err) {
    $('chat-text').value = text;
    toast(`Not sent: ${describe(err)}`);
  }
});

// ---- typed call ----------------------------------------------------------------------------

const opSelect = $('calc-op');
opSelect.addEventListener('change', () => ($('calc-method').textContent = `/math/${opSelect.value}`));

$('calc-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const method = `/math/${opSelect.value}`;
  const body = { a: $('calc-a').valueAsNumber, b: $('calc-b').valueAsNumber };
  // An empty field is NaN → sent as null: the server's contract answers 400 and names the field.
  for (const k of ['a', 'b']) if (Number.isNaN(body[k])) body[k] = null;
  $('calc-method').textContent = method;
  $('calc-error').hidden = true;
  const t0 = performance.now();
  try {
    const value = await client.call(method, body, { timeout: 5000 });
    $('calc-result').textContent = Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
  } catch (err) {
    $('calc-result').textContent = 'error';
    $('calc-error').textContent = describe(err);
    $('calc-error').hidden = false;
  }
  $('calc-latency').textContent = `${(performance.now() - t0).toFixed(1)} ms`;
});

$('worker-go').addEventListener('click', () => {
  const out = $('worker-result');
  out.textContent = 'Starting a worker…';
  out.className = 'muted';
  const worker = new Worker('/worker.js', { type: 'module' });
  const a = $('calc-a').valueAsNumber || 0;
  const b = $('calc-b').valueAsNumber || 0;
  const op = opSelect.value;
  worker.onmessage = ({ data }) => {
    worker.terminate();
    out.className = '';
    out.dataset.ok = String(data.ok);
    out.dataset.inWorker = String(!!data.inWorker);
    out.textContent = data.ok
      ? `Worker got ${data.value} from /math/${op} over ${data.transport} in ${data.ms.toFixed(1)} ms${data.inWorker ? ' (in a worker thread)' : ''}`
      : `Worker failed: ${data.error}`;
  };
  worker.onerror = (e) => {
    out.textContent = `Worker failed: ${e.message}`;
    worker.terminate();
  };
  worker.postMessage({ url: rpcUrl, method: `/math/${op}`, a, b });
});

// ---- server → browser calls ----------------------------------------------------------------

const dialog = $('confirm-dialog');
let pendingAnswer;

// The server calls this route; the reply is whatever the person clicks (or "no" after 20 s).
client.route('/ui/confirm', ({ question }) => {
  pendingAnswer?.(false);
  return new Promise((resolve) => {
    let left = 20;
    $('confirm-question').textContent = question;
    $('confirm-countdown').textContent = String(left);
    const tick = setInterval(() => {
      $('confirm-countdown').textContent = String(--left);
      if (left <= 0) finish(false);
    }, 1000);
    const onClose = () => finish(dialog.returnValue === 'yes');
    function finish(answer) {
      clearInterval(tick);
      dialog.removeEventListener('close', onClose);
      pendingAnswer = undefined;
      if (dialog.open) dialog.close();
      resolve(answer);
    }
    pendingAnswer = finish;
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    $('confirm-yes').focus();
  });
});

// Answered at once with what this page knows: the server reads live client state.
client.route('/ui/state', () => ({
  page: location.pathname,
  state: client.state,
  transport: client.transport ?? null,
  connections: view.opens,
  visible: document.visibilityState,
  chatMessagesShown: view.chatShown.size,
  topics: Object.fromEntries([...view.topics].map(([name, t]) => [name, { offset: t.sub.offset, received: t.received, gaps: t.gaps }])),
  answeredAt: new Date().toISOString(),
}));

$('ask-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('ask-result');
  const question = $('ask-question').value.trim() || 'Are you there?';
  out.dataset.answer = 'pending';
  out.textContent = 'The server is asking this page… answer in the dialog.';
  $('ask-go').disabled = true;
  try {
    const r = await client.call('/demo/ask', { question }, { timeout: 60_000 });
    out.dataset.answer = r.answer === true ? 'yes' : 'no';
    out.replaceChildren(
      'The server got ',
      el('strong', '', r.answer === null ? 'no answer' : r.answer ? 'yes' : 'no'),
      ` from this page after ${(r.ms / 1000).toFixed(1)} s${r.error ? ` (${r.error})` : ''}.`,
    );
  } catch (err) {
    out.dataset.answer = 'no';
    out.textContent = `The call failed: ${describe(err)}`;
  } finally {
    $('ask-go').disabled = false;
  }
});

$('peek-go').addEventListener('click', async () => {
  const out = $('peek-result');
  try {
    const r = await client.call('/demo/peek');
    out.textContent = `// the server called /ui/state on this page and got, in ${r.ms} ms:\n${JSON.stringify(r.state, null, 2)}`;
  } catch (err) {
    out.textContent = `// failed: ${describe(err)}`;
  }
  out.hidden = false;
});

// ---- break it ------------------------------------------------------------------------------

async function control(button, method, body, done) {
  button.disabled = true;
  try {
    const r = await client.call(method, body, { timeout: 5000 });
    done?.(r);
  } catch (err) {
    toast(describe(err));
  } finally {
    button.disabled = false;
    setFlags({ wsBlocked: view.wsBlocked });
  }
}

$('kill').addEventListener('click', (e) => control(e.currentTarget, '/demo/kill', null));
$('block-ws').addEventListener('click', (e) =>
  control(e.currentTarget, '/demo/websocket', { blocked: true }, (r) => setFlags({ wsBlocked: r.wsBlocked })),
);
$('restore-ws').addEventListener('click', (e) =>
  control(e.currentTarget, '/demo/websocket', { blocked: false }, (r) => setFlags({ wsBlocked: r.wsBlocked })),
);

// The delivery check: the server publishes numbered messages on a topic; this page counts them.
let run;
client.on('reconnecting', () => run && !run.done && run.reconnects++);

const streamSub = track('demo/stream', ({ run: id, n, of }) => {
  const s = run;
  if (!s || id !== s.id) return; // another tab's run
  s.numbers.push(n);
  if (s.seen[n]) s.dups++;
  else {
    s.seen[n] = 1;
    s.received++;
    if (n !== s.last + 1) s.outOfOrder++;
  }
  s.last = n;
  s.lastAt = Date.now();
  if (s.received === of && !s.done) finishRun(s);
  redraw('stream');
});

function finishRun(s) {
  s.done = true;
  s.endedAt = Date.now();
  clearInterval(s.watchdog);
  $('stream-go').disabled = false;
  redraw('stream');
}

// The call check: numbered calls, paced so that some are in flight when the connection is killed.
// Every call is durable (the default): a call lost with the connection is re-sent under its seq
// and the endpoint's reply cache answers it without running it twice. The server counts runs.
let callRun;
client.on('reconnecting', () => callRun && !callRun.done && callRun.reconnects++);

$('calls-go').addEventListener('click', async () => {
  const of = Number($('calls-count').value);
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const c = { id, of, sent: 0, answered: 0, failed: 0, reconnects: 0, done: false, tally: undefined, firstError: '' };
  callRun = c;
  $('calls-go').disabled = true;
  redraw('calls');
  const pending = [];
  for (let n = 1; n <= of; n++) {
    c.sent++;
    pending.push(
      client.call('/demo/tick', { run: id, n }).then(
        () => (c.answered++, redraw('calls')),
        (err) => (c.failed++, (c.firstError ||= describe(err)), redraw('calls')),
      ),
    );
    if (n % 5 === 0) await new Promise((r) => setTimeout(r, 15)); // about 300 calls a second: time to press Kill
  }
  await Promise.all(pending);
  try {
    c.tally = await client.call('/demo/tally', { run: id });
  } catch (err) {
    c.firstError ||= describe(err);
  }
  c.done = true;
  $('calls-go').disabled = false;
  redraw('calls');
});

$('stream-go').addEventListener('click', async () => {
  const of = Number($('stream-count').value);
  const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const s = { id, of, received: 0, dups: 0, outOfOrder: 0, last: 0, seen: new Uint8Array(of + 1), numbers: [], reconnects: 0, done: false };
  s.startedAt = s.lastAt = Date.now();
  run = s;
  $('stream-go').disabled = true;
  redraw('stream');
  // Nothing for 15 s: report what is missing rather than spin forever.
  s.watchdog = setInterval(() => Date.now() - s.lastAt > 15_000 && finishRun(s), 1000);
  try {
    await client.call('/demo/stream', { run: id, count: of, perSecond: window.demo.streamRate });
  } catch (err) {
    toast(`Stream not started: ${describe(err)}`);
    finishRun(s);
  }
});

// ---- start ---------------------------------------------------------------------------------

// For the end-to-end tests and the curious (try `demo.client` in the console).
tap.on(() => redraw('tap'));

window.demo = {
  client,
  view,
  streamRate: 2500, // messages per second of the delivery check
  get run() {
    return run;
  },
  get callRun() {
    return callRun;
  },
};

await Promise.all([lobby.ready, streamSub.ready]);
try {
  await loadHistory('chat/lobby');
} catch (err) {
  toast(`History unavailable: ${describe(err)}`);
}
$('feed').querySelector('.empty')?.remove();
document.body.dataset.ready = '1';
