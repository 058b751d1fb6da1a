import './styles.css';
import { createAuthView } from './auth-view.ts';
import { createDevicesView } from './devices-view.ts';
import { loadDeviceKey } from './device-key.ts';
import { byId } from './dom.ts';
import { describeEndReason, describeError } from './format.ts';
import { SessionClient, type EndReason, type SignedIn } from './session-client.ts';

/**
 * The devices page: restores the session of the refresh cookie if there is one, else shows
 * sign-in; once signed in, the list of devices. It returns to sign-in, saying why, whenever the
 * session ends: signed out here, everywhere, or (noticed on the next call) from another device.
 */
// Sessions of this page are bound to a key the browser keeps (device-key.ts): a copied refresh cookie is useless elsewhere.
const client = new SessionClient({ basePath: window.location.origin, deviceKey: loadDeviceKey });
const views = {
  loading: byId('loading-view'),
  auth: byId('auth-view'),
  devices: byId('devices-view'),
};
const account = byId('account');

function show(view: keyof typeof views) {
  for (const [name, element] of Object.entries(views)) element.hidden = name !== view;
  account.hidden = view !== 'devices';
}

const devices = createDevicesView(client);
const auth = createAuthView(client, (signedIn) => void showDevices(signedIn, { focusHeading: true }));

// Live updates (GET /sessions/events): the list follows other devices signing in and out, and this
// device returns to sign-in the moment its session is ended elsewhere. One watcher per sign-in.
let watching: AbortController | undefined;
let reloading: Promise<void> | undefined;
let reloadAgain = false;
/** A change during a re-read may have come after it read: read once more afterwards. */
function followChange() {
  if (reloading) {
    reloadAgain = true;
    return;
  }
  reloading = devices.refresh().finally(() => {
    reloading = undefined;
    if (reloadAgain && client.signedIn) {
      reloadAgain = false;
      followChange();
    }
  });
}

async function showDevices(signedIn: SignedIn, options: { focusHeading: boolean }) {
  const { user } = signedIn;
  byId('account-name').textContent = user.name ? `${user.name} (${user.email})` : user.email;
  show('devices');
  await devices.open(options);
  watching?.abort();
  watching = new AbortController();
  void client.watch({ onChange: followChange, signal: watching.signal });
}

function showSignIn(notice?: string) {
  devices.clear();
  show('auth');
  auth.open({ notice });
}

const endNotices: Record<EndReason, string> = {
  ended: 'You were signed out on this device: its session was ended from another device, or it expired. Sign in again to continue.',
  'signed-out': 'You signed out on this device.',
  'signed-out-everywhere': 'You signed out everywhere: every session of your account has ended, this one included.',
};
client.onEnd((reason, serverReason) => {
  watching?.abort();
  showSignIn(reason === 'ended' && serverReason ? `${endNotices.ended} ${describeEndReason(serverReason)}` : endNotices[reason]);
});

// The DOM drops a listener's promise: signOut's failure is caught below and reported on the page.
byId('sign-out').addEventListener('click', (event) => void signOut(event.currentTarget as HTMLButtonElement));
async function signOut(button: HTMLButtonElement) {
  button.disabled = true;
  try {
    await client.signOut();
  } catch (error) {
    // If the session had already ended, the end notice has replaced this page; otherwise say why.
    devices.report(error);
  } finally {
    button.disabled = false;
  }
}

// Coming back to the tab: re-read the list. That call also finds out whether this device's
// session was ended elsewhere meanwhile (or expired), and refreshes a token that went stale while
// background timers were throttled.
const recheck = () => {
  if (document.visibilityState === 'visible' && client.signedIn) void devices.refresh();
};
document.addEventListener('visibilitychange', recheck);
window.addEventListener('focus', recheck);

/**
 * A password-reset link opens `/reset-password?token=…`. The token is read once, then taken out of
 * the address bar and the history at once (replaceState), so it is neither in a later Referer nor
 * one "back" away; the page's own Referrer-Policy is no-referrer as well. It stays in memory only.
 */
function takeResetToken(): string | null {
  if (window.location.pathname !== '/reset-password') return null;
  const token = new URLSearchParams(window.location.search).get('token');
  window.history.replaceState(null, '', '/');
  return token;
}

const resetToken = takeResetToken();
if (resetToken) {
  show('auth');
  auth.openReset(resetToken);
} else {
  restoreOrSignIn();
}

function restoreOrSignIn() {
  client
    .restore()
    .then((signedIn) => (signedIn ? showDevices(signedIn, { focusHeading: false }) : showSignIn()))
    .catch((error: unknown) => showSignIn(describeError(error)));
}
