// The workbench page: channels, the person switcher, the composer, and the messages the server
// renders from Block Kit, kept current by a server-sent event stream. Plain browser JavaScript.
(() => {
  /** ts → { ts, channel, threadTs, visibleTo, html } */
  const messages = new Map();
  let state = { bot: { id: '', name: 'vpn-conns' }, people: [], channels: [] };
  let person = '';
  let channel = '';
  // The app's Home tab is shown in the pane as if it were a channel of its own.
  const HOME = 'app-home';
  // Like Slack, the page draws the latest messages only; older ones on request. This keeps the
  // page quick and its memory flat however long the demo runs.
  const WINDOW = 50;
  let limit = WINDOW;
  // Drawn and enhanced messages, reused when a channel is shown again (enhancing, e.g. localising
  // every date, costs more than parsing). Keyed by person and ts; dropped when the message or
  // its thread changes; the oldest go first beyond CACHE_SIZE.
  const CACHE_SIZE = 150;
  const drawn = new Map();

  const $ = (id) => document.getElementById(id);
  const list = $('messages');
  const select = $('person');
  const input = $('message');

  const channelLabel = (id) => {
    if (id === HOME) return `${state.bot.name} · Home`;
    const c = state.channels.find((x) => x.id === id);
    if (c) return `#${c.name}`;
    return state.bot.name;
  };
  const dmOf = (personId) => state.people.find((p) => p.id === personId)?.dm;

  function visible(m) {
    return m.channel === channel && (m.visibleTo === undefined || m.visibleTo === person);
  }

  function link(id, name, title) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `#${id}`;
    a.textContent = name;
    if (title) a.title = title;
    a.dataset.channel = id;
    a.addEventListener('click', (event) => {
      event.preventDefault();
      open(id);
    });
    li.append(a);
    return li;
  }

  function drawSidebar() {
    const channels = $('channels');
    channels.replaceChildren(...state.channels.map((c) => link(c.id, `#${c.name}`)));
    const dm = dmOf(person);
    $('dms').replaceChildren(
      ...(dm ? [link(dm, state.bot.name, 'Direct message with the bot')] : []),
    );
    $('apps').replaceChildren(link(HOME, `${state.bot.name} · Home`, "The app's Home tab"));
    for (const a of document.querySelectorAll('.channel-list a')) {
      if (a.dataset.channel === channel) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function fragment(html) {
    const template = document.createElement('template');
    template.innerHTML = html;
    return template.content;
  }

  /** A message's node from the cache, or drawn and enhanced now. */
  function nodeOf(m) {
    const key = `${person}|${m.ts}`;
    const cached = drawn.get(key);
    if (cached) return cached;
    const node = drawMessage(m);
    enhance(node);
    drawn.set(key, node);
    if (drawn.size > CACHE_SIZE) drawn.delete(drawn.keys().next().value);
    return node;
  }

  function forget(m) {
    for (const p of state.people) {
      drawn.delete(`${p.id}|${m.ts}`);
      if (m.threadTs) drawn.delete(`${p.id}|${m.threadTs}`);
    }
  }

  /** One top-level message with its thread replies under it. */
  function drawMessage(m) {
    const wrapper = document.createElement('div');
    wrapper.className = 'message';
    wrapper.dataset.ts = m.ts;
    if (m.visibleTo !== undefined) wrapper.classList.add('ephemeral');
    wrapper.append(fragment(m.html));
    const replies = [...messages.values()].filter((r) => r.threadTs === m.ts && visible(r));
    if (replies.length > 0) {
      const details = document.createElement('details');
      details.className = 'thread';
      details.open = true;
      const summary = document.createElement('summary');
      // The message itself says how many replies (the renderer draws replyCount).
      summary.textContent = 'Thread';
      details.append(summary);
      for (const r of replies) {
        const reply = document.createElement('div');
        reply.className = 'reply';
        reply.dataset.ts = r.ts;
        reply.append(fragment(r.html));
        details.append(reply);
      }
      wrapper.append(details);
    }
    return wrapper;
  }

  function enhance(root) {
    if (window.VpnWorkbench?.enhance) window.VpnWorkbench.enhance(root);
  }

  function olderButton(hidden) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'older';
    button.textContent = `Show ${Math.min(hidden, WINDOW)} older messages`;
    button.addEventListener('click', () => {
      limit += WINDOW;
      drawMessages();
    });
    return button;
  }

  /** Draws the channel; `keepScroll` false (opening a channel) skips measuring the old layout. */
  function drawMessages(keepScroll = true) {
    if (channel === HOME) return;
    const atBottom = !keepScroll || list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const all = [...messages.values()].filter((m) => visible(m) && m.threadTs === undefined);
    all.sort((a, b) => Number(a.ts) - Number(b.ts));
    const shown = all.slice(-limit);
    const nodes = shown.map(nodeOf);
    if (all.length > shown.length) nodes.unshift(olderButton(all.length - shown.length));
    if (nodes.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent =
        channel === dmOf(person)
          ? `This is your direct message with ${state.bot.name}. CSV exports arrive here.`
          : 'No messages yet. Type /vpn-conns below.';
      nodes.push(empty);
    }
    list.replaceChildren(...nodes);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function redrawOne(ts) {
    const m = messages.get(ts);
    const top = m?.threadTs ?? ts;
    const parent = messages.get(top);
    const old = list.querySelector(`:scope > .message[data-ts="${CSS.escape(top)}"]`);
    if (!parent || !visible(parent) || !old) {
      drawMessages();
      return;
    }
    old.replaceWith(nodeOf(parent));
  }

  /** Keeps the drawn messages within the window as new ones arrive. */
  function trim() {
    const drawn = list.querySelectorAll(':scope > .message');
    const extra = drawn.length - limit;
    if (extra <= 0) return;
    for (let i = 0; i < extra; i++) drawn[i].remove();
    const hidden =
      [...messages.values()].filter((m) => visible(m) && m.threadTs === undefined).length - limit;
    const button = olderButton(hidden);
    const old = list.querySelector(':scope > .older');
    if (old) old.replaceWith(button);
    else list.prepend(button);
  }

  function open(id) {
    channel = id;
    limit = WINDOW;
    $('channel-title').textContent = channelLabel(id);
    input.placeholder = `Message ${channelLabel(id)} (try /vpn-conns help)`;
    $('composer').hidden = id === HOME;
    document.querySelector('.hint').hidden = id === HOME;
    drawSidebar();
    if (id === HOME) void showHome(post('/workbench/home', { person }));
    else drawMessages(false);
    history.replaceState(null, '', `#${id}`);
  }

  /** Draws the Home view an answer of the workbench carries, or what went wrong. */
  async function showHome(answer) {
    const shownFor = person;
    if (!list.querySelector(':scope > .message')) {
      const wait = document.createElement('p');
      wait.className = 'empty';
      wait.textContent = 'Opening the Home tab…';
      list.replaceChildren(wait);
    }
    const result = await answer;
    if (channel !== HOME || person !== shownFor) return;
    if (!result.ok || !result.html) {
      const error = document.createElement('p');
      error.className = 'empty';
      error.textContent = `The Home tab did not open: ${result.error || 'no answer'}.`;
      list.replaceChildren(error);
      return;
    }
    const wrapper = document.createElement('div');
    wrapper.className = 'message home';
    wrapper.dataset.ts = 'home';
    wrapper.append(fragment(result.html));
    enhance(wrapper);
    list.replaceChildren(wrapper);
    list.scrollTop = 0;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return response.json().catch(() => ({ ok: false }));
  }

  $('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text === '') return;
    input.value = '';
    await post('/workbench/send', { person, channel, text });
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('composer').requestSubmit();
    }
  });

  select.addEventListener('change', () => {
    const wasDm = channel === dmOf(person);
    person = select.value;
    localStorage.setItem('vpn-conns-person', person);
    drawSidebar();
    if (wasDm) open(dmOf(person));
    else if (channel === HOME) open(HOME);
    else drawMessages();
  });

  window.addEventListener('workbench:action', (event) => {
    const d = event.detail || {};
    if (d.messageTs === 'home') {
      const action = { person, actionId: d.actionId, blockId: d.blockId, value: d.value };
      void showHome(post('/workbench/home/action', action));
      return;
    }
    void post('/workbench/action', {
      person,
      channel: d.channel || channel,
      messageTs: d.messageTs,
      actionId: d.actionId,
      blockId: d.blockId,
      value: d.value,
    });
  });

  // Without blocks.js, plain buttons still work (no confirm dialogs, no date localisation).
  list.addEventListener('click', (event) => {
    if (window.VpnWorkbench) return;
    const button = event.target.closest('button[data-action-id]');
    const article = button?.closest('[data-ts]');
    if (!button || !article) return;
    window.dispatchEvent(
      new CustomEvent('workbench:action', {
        detail: {
          actionId: button.dataset.actionId,
          blockId: button.dataset.blockId,
          value: button.dataset.value,
          messageTs: article.dataset.ts,
          channel,
        },
      }),
    );
  });

  function connect() {
    const events = new EventSource('/workbench/events');
    events.onopen = () => {
      $('live').textContent = '';
    };
    events.onerror = () => {
      $('live').textContent = 'Reconnecting…';
    };
    events.onmessage = (event) => {
      const change = JSON.parse(event.data);
      if (change.kind === 'delete') {
        const gone = messages.get(change.ts);
        if (gone) forget(gone);
        messages.delete(change.ts);
        if (change.channel === channel) drawMessages();
        return;
      }
      const m = change.message;
      const isNew = !messages.has(m.ts);
      messages.set(m.ts, m);
      forget(m);
      if (!visible(m)) return;
      if (isNew && m.threadTs === undefined) {
        const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
        list.querySelector(':scope > .empty')?.remove();
        list.append(nodeOf(m));
        trim();
        if (atBottom) list.scrollTop = list.scrollHeight;
      } else redrawOne(m.ts);
    };
  }

  async function start() {
    const response = await fetch('/workbench/state');
    state = await response.json();
    for (const m of state.messages) messages.set(m.ts, m);
    for (const p of state.people) {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = p.label;
      select.append(option);
    }
    const saved = localStorage.getItem('vpn-conns-person');
    person = state.people.some((p) => p.id === saved) ? saved : state.people[0]?.id;
    select.value = person;
    const wanted = decodeURIComponent(location.hash.slice(1));
    const known =
      state.channels.some((c) => c.id === wanted) || wanted === dmOf(person) || wanted === HOME;
    open(known ? wanted : state.channels[0].id);
    connect();
    input.focus();
  }

  void start();
})();
