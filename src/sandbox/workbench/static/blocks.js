/*
 * The workbench's browser side of rendered Slack messages (the HTML comes from
 * src/sandbox/workbench/render/): dates in the reader's time zone, and Block
 * Kit buttons, menus and their confirm dialogs. Plain browser JavaScript, no
 * build step. `window.VpnWorkbench.enhance(root)` wires what is under `root`
 * and is safe to call again; new messages are also enhanced when added.
 *
 * `globalThis.VpnWorkbenchFormat.formatSlackDate` is the pure date formatting,
 * loaded by the tests in a `node:vm` context (no DOM there).
 */
(() => {
  const MONTHS = [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ];
  const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const DAY_MS = 86_400_000;

  /** `1st`, `2nd`, `3rd`, `4th`, `11th`, `21st`… */
  function ordinal(n) {
    const tens = n % 100;
    if (tens >= 11 && tens <= 13) return `${n}th`;
    return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
  }

  // Making an Intl.DateTimeFormat costs far more than using one: one per time zone.
  const formatters = new Map();
  function formatterFor(timeZone) {
    const key = timeZone === undefined ? '' : String(timeZone);
    let formatter = formatters.get(key);
    if (formatter === undefined) {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        hourCycle: 'h23',
      });
      formatters.set(key, formatter);
    }
    return formatter;
  }

  /** The calendar fields of `ms` in `timeZone` (the browser's when undefined). */
  function fieldsIn(ms, timeZone) {
    const parts = formatterFor(timeZone).formatToParts(new Date(ms));
    const get = (type) => Number(parts.find((p) => p.type === type)?.value);
    const fields = {
      year: get('year'),
      month: get('month'),
      day: get('day'),
      hour: get('hour') % 24,
      minute: get('minute'),
      second: get('second'),
    };
    // Days since the epoch of this calendar date, to tell today from yesterday.
    fields.dayNumber = Date.UTC(fields.year, fields.month - 1, fields.day) / DAY_MS;
    fields.weekday = WEEKDAYS[new Date(fields.dayNumber * DAY_MS).getUTCDay()];
    return fields;
  }

  // "Now" changes little while a page of dates is formatted: remember it per minute and zone.
  let lastToday = { key: '', fields: null };
  function todayIn(nowMs, timeZone) {
    const key = `${Math.floor(nowMs / 60_000)} ${timeZone}`;
    if (lastToday.key !== key) lastToday = { key, fields: fieldsIn(nowMs, timeZone) };
    return lastToday.fields;
  }

  const pad = (n) => String(n).padStart(2, '0');

  function clock(f, hour12, seconds) {
    const secs = seconds ? `:${pad(f.second)}` : '';
    if (!hour12) return `${pad(f.hour)}:${pad(f.minute)}${secs}`;
    const h = f.hour % 12 === 0 ? 12 : f.hour % 12;
    return `${h}:${pad(f.minute)}${secs} ${f.hour < 12 ? 'AM' : 'PM'}`;
  }

  /** `3 minutes ago`, `in 2 hours`, `just now`. */
  function ago(ms, nowMs) {
    const diff = (ms - nowMs) / 1000;
    const size = Math.abs(diff);
    if (size < 45) return 'just now';
    const units = [
      ['year', 365 * 86_400],
      ['month', 30 * 86_400],
      ['week', 7 * 86_400],
      ['day', 86_400],
      ['hour', 3600],
      ['minute', 60],
    ];
    const [unit, seconds] = units.find(([, s]) => size >= s) || units[units.length - 1];
    const n = Math.max(1, Math.round(size / seconds));
    const phrase = `${n} ${unit}${n === 1 ? '' : 's'}`;
    return diff < 0 ? `${phrase} ago` : `in ${phrase}`;
  }

  /**
   * Formats a Slack date token (`<!date^UNIX^FORMAT|fallback>`) the way Slack
   * does, in `options.timeZone` (default: the browser's), with `options.now`
   * (ms or Date; default now) for {ago} and the today/yesterday/tomorrow of
   * the *_pretty tokens (capitalized at the start of the format), and a
   * 12-hour clock unless `options.hour12` is false.
   * Returns `null` when it cannot (bad time, unknown token, unknown zone):
   * the caller then keeps the fallback text.
   */
  function formatSlackDate(unixSeconds, format, options) {
    const opts = options || {};
    const seconds = Number(unixSeconds);
    if (!Number.isFinite(seconds) || typeof format !== 'string' || format === '') return null;
    const ms = seconds * 1000;
    const nowMs = opts.now === undefined ? Date.now() : Number(opts.now);
    const hour12 = opts.hour12 !== false;
    let f;
    let today;
    try {
      f = fieldsIn(ms, opts.timeZone);
      today = todayIn(nowMs, opts.timeZone);
    } catch {
      return null;
    }
    if (!Number.isFinite(f.year) || !Number.isFinite(today.dayNumber)) return null;
    const month = MONTHS[f.month - 1];
    const date = `${month} ${ordinal(f.day)}, ${f.year}`;
    const short = `${month.slice(0, 3)} ${f.day}, ${f.year}`;
    const long = `${f.weekday}, ${date}`;
    const relative = { 0: 'today', [-1]: 'yesterday', 1: 'tomorrow' }[
      f.dayNumber - today.dayNumber
    ];
    const sameYear = f.year === today.year;
    const tokens = {
      date_num: `${f.year}-${pad(f.month)}-${pad(f.day)}`,
      date_slash: `${pad(f.day)}/${pad(f.month)}/${f.year}`,
      date,
      date_short: short,
      date_long: long,
      date_long_full: `${month} ${f.day}, ${f.year}`,
      date_pretty: relative || date,
      date_short_pretty: relative || short,
      date_long_pretty: relative || long,
      day_divider_pretty:
        relative || (sameYear ? `${f.weekday}, ${month} ${ordinal(f.day)}` : long),
      time: clock(f, hour12, false),
      time_secs: clock(f, hour12, true),
      ago: ago(ms, nowMs),
    };
    let unknown = false;
    const text = format.replace(/\{([a-z_]+)\}/g, (whole, name, offset) => {
      if (!Object.hasOwn(tokens, name)) {
        unknown = true;
        return whole;
      }
      const value = tokens[name];
      // Slack writes "Today at 9:40" but "since today".
      if (offset !== 0 || value !== relative) return value;
      return value.charAt(0).toUpperCase() + value.slice(1);
    });
    return unknown ? null : text;
  }

  globalThis.VpnWorkbenchFormat = { formatSlackDate };

  if (typeof window === 'undefined' || typeof document === 'undefined') return;

  /** The reader's clock: 24-hour when their locale uses it. */
  function prefersHour12() {
    try {
      const cycle = new Intl.DateTimeFormat(undefined, { hour: 'numeric' }).resolvedOptions()
        .hourCycle;
      return cycle !== 'h23' && cycle !== 'h24';
    } catch {
      return true;
    }
  }
  const HOUR12 = prefersHour12();

  /**
   * Replaces a `time.slack-date`'s text with the localized date; keeps the
   * fallback when it cannot. Done once per element unless `again` (for {ago}).
   */
  function localizeDate(time, again) {
    if (time.dataset.localized === 'true' && !again) return;
    time.dataset.localized = 'true';
    if (time.dataset.fallback === undefined) time.dataset.fallback = time.textContent;
    const text = formatSlackDate(time.dataset.ts, time.dataset.format, { hour12: HOUR12 });
    time.textContent = text === null ? time.dataset.fallback : text;
    const full = formatSlackDate(time.dataset.ts, '{date_long} {time_secs}', { hour12: HOUR12 });
    if (full !== null) time.title = full;
  }

  function parseConfirm(json) {
    if (!json) return null;
    try {
      const value = JSON.parse(json);
      return value && typeof value === 'object' ? value : null;
    } catch {
      return null;
    }
  }

  let dialogCount = 0;

  /**
   * Shows Slack's confirm dialog as a modal `<dialog>`: the title as its
   * heading, the text, then deny and confirm buttons (red when the style is
   * danger). Resolves true on confirm; false on deny, Escape or closing.
   */
  function askConfirm(confirm) {
    return new Promise((resolve) => {
      dialogCount += 1;
      const id = `slack-confirm-${dialogCount}`;
      const dialog = document.createElement('dialog');
      dialog.className = `slack-confirm${confirm.style === 'danger' ? ' slack-confirm-danger' : ''}`;
      dialog.setAttribute('aria-labelledby', `${id}-title`);
      dialog.setAttribute('aria-describedby', `${id}-text`);
      const heading = document.createElement('h2');
      heading.id = `${id}-title`;
      heading.textContent = confirm.title || 'Are you sure?';
      const text = document.createElement('div');
      text.id = `${id}-text`;
      text.className = 'slack-confirm-text';
      // `html` is the renderer's own escaped output, carried in an attribute.
      if (typeof confirm.html === 'string') text.innerHTML = confirm.html;
      else text.textContent = confirm.text || '';
      const buttons = document.createElement('div');
      buttons.className = 'slack-confirm-buttons';
      const deny = document.createElement('button');
      deny.type = 'button';
      deny.className = 'slack-button';
      deny.textContent = confirm.deny || 'Cancel';
      const ok = document.createElement('button');
      ok.type = 'button';
      ok.className = `slack-button ${confirm.style === 'danger' ? 'slack-button-danger' : 'slack-button-primary'}`;
      ok.textContent = confirm.confirm || 'Yes';
      buttons.append(deny, ok);
      dialog.append(heading, text, buttons);
      let answered = false;
      const finish = (answer) => {
        if (answered) return;
        answered = true;
        if (dialog.open) dialog.close();
        dialog.remove();
        resolve(answer);
      };
      deny.addEventListener('click', () => finish(false));
      ok.addEventListener('click', () => finish(true));
      dialog.addEventListener('close', () => finish(false));
      document.body.append(dialog);
      enhanceDates(dialog);
      dialog.showModal();
      deny.focus();
    });
  }

  /** Tells the page (the workbench) that a person used an element of a message. */
  function dispatchAction(element, value) {
    const article = element.closest('article[data-ts]');
    const detail = {
      actionId: element.dataset.actionId || '',
      blockId: element.dataset.blockId || '',
      value,
      messageTs: article ? article.dataset.ts : undefined,
      channel: article ? article.dataset.channel : undefined,
      elementType: element.dataset.elementType || 'button',
    };
    window.dispatchEvent(new CustomEvent('workbench:action', { detail }));
  }

  async function confirmThenDispatch(element, value) {
    const confirm = parseConfirm(element.dataset.confirm);
    if (confirm !== null && !(await askConfirm(confirm))) return false;
    dispatchAction(element, value);
    return true;
  }

  /** Wires one button, link, menu option or select (once: marked with `data-wired`). */
  function wire(element) {
    if (element.dataset.wired === 'true') return;
    element.dataset.wired = 'true';
    if (element.tagName === 'SELECT') {
      element.addEventListener('change', async () => {
        const done = await confirmThenDispatch(element, element.value);
        if (!done) element.value = '';
      });
      return;
    }
    element.addEventListener('click', (event) => {
      const value = element.dataset.value;
      if (element.tagName === 'A') {
        // A url button: the browser opens the link, and Slack still sends the action.
        dispatchAction(element, value);
        return;
      }
      event.preventDefault();
      const menu = element.closest('details.slack-overflow');
      if (menu) menu.open = false;
      confirmThenDispatch(element, value);
    });
  }

  function enhanceDates(root) {
    const selector = 'time.slack-date[data-ts]';
    if (root.matches?.(selector)) localizeDate(root);
    for (const time of root.querySelectorAll(selector)) localizeDate(time);
  }

  /**
   * Localizes the dates and wires the interactive elements under `root` (a
   * message, a channel's list, the document). Idempotent: each date is
   * localized once and each element wired once (both marked in a data-*
   * attribute), so calling it again on the same root costs one query.
   */
  function enhance(root) {
    const base = root || document.body;
    if (!base || typeof base.querySelectorAll !== 'function') return;
    enhanceDates(base);
    const selector = '[data-action-id]';
    if (base.matches?.(selector)) wire(base);
    for (const element of base.querySelectorAll(selector)) wire(element);
  }

  window.VpnWorkbench = { enhance, formatSlackDate };

  function start() {
    enhance(document.body);
    // Messages arrive over SSE: enhance whatever is added to the page.
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) if (node.nodeType === 1) enhance(node);
      }
    }).observe(document.body, { childList: true, subtree: true });
    // "5 minutes ago" moves on.
    setInterval(() => {
      for (const time of document.querySelectorAll('time.slack-date[data-format*="{ago}"]')) {
        localizeDate(time, true);
      }
    }, 30_000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
