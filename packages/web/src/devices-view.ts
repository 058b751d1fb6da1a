import { confirmAndRun } from './confirm-dialog.ts';
import { byId, h } from './dom.ts';
import { describeError, deviceName, deviceTypeLabel, exactTime, plural, signInMethod, timeAgo, unboundUseWarning } from './format.ts';
import { deviceIcons } from './icons.ts';
import { ResponseError, type Session, type SessionList } from './sdk.ts';
import type { SessionClient } from './session-client.ts';

/** Sessions per page of the list (the API allows up to 100). */
export const PAGE_SIZE = 10;

export interface DevicesView {
  /** Shows the first page; focuses the heading when asked (after sign-in). */
  open(options: { focusHeading: boolean }): Promise<void>;
  /** Re-reads the current page, e.g. when the tab comes back into view. Quiet: no progress shown. */
  refresh(): Promise<void>;
  /** Forgets what was shown (after the session ended). */
  clear(): void;
  /** Shows a failure as a sentence above the list (unless the session has ended meanwhile). */
  report(error: unknown): void;
}

/**
 * The list of the account's active sessions and the three ways to end them. Every change is
 * followed by a re-read of the current page, so the list shows what the service now holds (another
 * device may have signed in or out meanwhile) without reloading the page.
 */
export function createDevicesView(client: SessionClient): DevicesView {
  const list = byId<HTMLUListElement>('device-list');
  const status = byId('devices-status');
  const summary = byId('devices-summary');
  const heading = byId('devices-title');
  const pager = byId('pager');
  const prev = byId<HTMLButtonElement>('prev-page');
  const next = byId<HTMLButtonElement>('next-page');
  const pageInfo = byId('page-info');
  const reloadButton = byId<HTMLButtonElement>('reload');

  let page = 1;
  let totalPages = 1;
  // Each load gets a number; a slower, older answer never overwrites a newer one.
  let loadSeq = 0;
  let loading: Promise<void> | null = null;

  const say = (text: string, tone: 'done' | 'problem' = 'done') => {
    status.textContent = text;
    status.classList.toggle('problem', tone === 'problem');
  };

  /** Errors after the session ended are the sign-in page's business, not this list's. */
  const report = (error: unknown) => {
    if (client.signedIn) say(describeError(error), 'problem');
  };

  /** The newest load: an older one that lost the race waits for it, so its caller sees the final list. */
  let newest: Promise<void> = Promise.resolve();

  function load(targetPage: number, options: { quiet?: boolean } = {}): Promise<void> {
    const run = loadOnce(targetPage, options);
    newest = run.catch(() => {});
    return run;
  }

  async function loadOnce(targetPage: number, options: { quiet?: boolean }): Promise<void> {
    const seq = ++loadSeq;
    list.setAttribute('aria-busy', 'true');
    if (!options.quiet) reloadButton.disabled = true;
    try {
      let result = await client.listSessions(targetPage, PAGE_SIZE);
      // The last page emptied (its devices were signed out): show the one before.
      if (result.data.length === 0 && targetPage > 1) result = await client.listSessions(result.meta.totalPages || 1, PAGE_SIZE);
      if (seq !== loadSeq) {
        // A newer load (a live update, a click) started meanwhile: its answer is the one shown.
        await newest;
        return;
      }
      render(result);
    } finally {
      if (seq === loadSeq) {
        list.removeAttribute('aria-busy');
        reloadButton.disabled = false;
      }
    }
  }

  function render({ data, meta }: SessionList) {
    page = meta.page;
    totalPages = Math.max(meta.totalPages, 1);
    // This device first (the API orders by last activity, where it may tie with others).
    list.replaceChildren(...[...data].sort((a, b) => Number(b.isCurrent) - Number(a.isCurrent)).map(row));
    const others = meta.total - 1;
    summary.textContent =
      meta.total <= 1
        ? 'Your account is signed in on this device only.'
        : `Your account is signed in on ${plural(meta.total, 'device')}. If you don't recognise one, sign it out.`;
    pager.hidden = totalPages <= 1;
    pageInfo.textContent = `Page ${page} of ${totalPages}`;
    prev.disabled = page <= 1;
    next.disabled = page >= totalPages;
    byId<HTMLButtonElement>('revoke-others').disabled = others <= 0;
  }

  function row(session: Session): HTMLLIElement {
    const name = deviceName(session.device);
    const method = signInMethod(session.authMethod); // "with Google", or '' for a password sign-in
    const icon = h('span', { class: `device-icon ${session.device.type}`, role: 'img', 'aria-label': deviceTypeLabel[session.device.type] });
    icon.innerHTML = deviceIcons[session.device.type]; // a constant from icons.ts, never data
    const nameId = `device-name-${session.id}`;
    const signOut = session.isCurrent
      ? null
      : h('button', { type: 'button', class: 'button subtle small', 'aria-describedby': nameId, 'data-session-id': session.id }, 'Sign out');
    signOut?.addEventListener('click', () => void revokeOne(session, name));
    return h(
      'li',
      { class: session.isCurrent ? 'device current' : 'device', 'data-session-id': session.id },
      icon,
      h(
        'div',
        { class: 'device-main' },
        h('p', { class: 'device-name' }, h('span', { id: nameId }, name), session.isCurrent ? h('span', { class: 'badge' }, 'This device') : null,
          session.dpopBound ? h('span', { class: 'key-bound', title: 'Bound to a key this device holds: its stolen cookie or tokens are useless elsewhere' }, 'Key-bound') : null),
        h(
          'p',
          { class: 'device-meta' },
          session.ipAddress ? h('span', { class: 'meta-item' }, h('span', { class: 'visually-hidden' }, 'IP address '), session.ipAddress) : null,
          h('span', { class: 'meta-item' }, 'Active ', session.isCurrent ? 'now' : timeElement(session.lastActiveAt)),
          h('span', { class: 'meta-item' }, 'Signed in ', method ? `${method} ` : '', timeElement(session.createdAt)),
        ),
        // Someone holds a copy of this session's refresh token (refresh_token.unbound_use): say so on the device.
        session.lastUnboundUseAt
          ? h('p', { class: 'device-warning', role: 'note' }, unboundUseWarning(session.unboundUseCount ?? 1), ' ', timeElement(session.lastUnboundUseAt), '.')
          : null,
      ),
      signOut,
    );
  }

  async function revokeOne(session: Session, name: string) {
    let outcome = '';
    const done = await confirmAndRun({
      title: `Sign out ${name}?`,
      body: 'That device is signed out at once: its next request is refused, and whoever uses it must sign in again.',
      confirmLabel: 'Sign out device',
      progressLabel: 'Signing out…',
      stillRelevant: () => client.signedIn !== null,
      action: async () => {
        try {
          await client.revokeSession(session.id);
          outcome = `Signed out ${name}.`;
        } catch (error) {
          // Already gone (signed out elsewhere, or expired): nothing left to do, say so.
          if (!(error instanceof ResponseError && error.status === 404)) throw error;
          outcome = `${name} was already signed out.`;
        }
      },
    });
    if (!done) return;
    say(outcome);
    const position = Array.from(list.children).findIndex((li) => (li as HTMLElement).dataset.sessionId === session.id);
    await load(page).catch(report);
    focusAfterRemoval(position);
  }

  /** After a row disappears, focus goes to the next device's button (or the previous), else the heading. */
  function focusAfterRemoval(position: number) {
    const buttons = Array.from(list.querySelectorAll<HTMLButtonElement>('button[data-session-id]'));
    const rows = Array.from(list.children);
    const nextRow = rows[Math.min(Math.max(position, 0), rows.length - 1)];
    const target = nextRow?.querySelector<HTMLButtonElement>('button[data-session-id]') ?? buttons.at(-1);
    (target ?? heading).focus();
  }

  // The DOM drops a listener's promise: confirmAndRun shows the action's failure in its dialog and
  // resolves false, and the reload's failure goes to report().
  byId('revoke-others').addEventListener('click', () => void revokeOthers());
  async function revokeOthers() {
    let revoked = 0;
    const done = await confirmAndRun({
      title: 'Sign out of all other devices?',
      body: 'Every session except this one ends at once. This device stays signed in.',
      confirmLabel: 'Sign out others',
      progressLabel: 'Signing out…',
      stillRelevant: () => client.signedIn !== null,
      action: async () => {
        revoked = (await client.revokeOtherSessions()).revokedCount;
      },
    });
    if (!done) return;
    say(revoked === 0 ? 'No other device was signed in.' : `Signed out of ${plural(revoked, 'other device')}.`);
    await load(1).catch(report);
    heading.focus();
  }

  byId('revoke-all').addEventListener('click', () => {
    void confirmAndRun({
      title: 'Sign out everywhere?',
      body: 'Every session of your account ends at once, this one included. You will need to sign in again on each device.',
      confirmLabel: 'Sign out everywhere',
      progressLabel: 'Signing out…',
      stillRelevant: () => client.signedIn !== null,
      // On success the client reports the end, and the page returns to sign-in.
      action: async () => void (await client.revokeAllSessions()),
    });
  });

  reloadButton.addEventListener('click', () => {
    say('');
    void load(page).catch(report);
  });
  prev.addEventListener('click', () => void turn(page - 1, prev, next));
  next.addEventListener('click', () => void turn(page + 1, next, prev));

  async function turn(target: number, pressed: HTMLButtonElement, other: HTMLButtonElement) {
    say('');
    await load(target).catch(report);
    // At either end the pressed button becomes disabled; keep focus on the pager, not on <body>.
    if (pressed.disabled && document.activeElement !== other) other.focus();
  }

  // "2 minutes ago" goes stale while the page stays open: re-word the times every half minute.
  setInterval(() => {
    const now = Date.now();
    for (const time of Array.from(list.querySelectorAll('time'))) time.textContent = timeAgo(time.dateTime, now);
  }, 30_000);

  return {
    async open({ focusHeading }) {
      say('');
      list.replaceChildren();
      await load(1).catch(report);
      if (focusHeading) heading.focus();
    },
    async refresh() {
      // Focus and visibilitychange arrive together: one read serves both.
      loading ??= load(page, { quiet: true })
        .catch(report)
        .finally(() => {
          loading = null;
        });
      return loading;
    },
    clear() {
      loadSeq++;
      list.replaceChildren();
      say('');
    },
    report,
  };
}

function timeElement(time: Date): HTMLTimeElement {
  // The SDK gives date-time fields as Date objects (typescript-fetch style).
  const isoTime = time.toISOString();
  return h('time', { datetime: isoTime, title: exactTime(isoTime) }, timeAgo(isoTime, Date.now()));
}
