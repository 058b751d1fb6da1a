import { byId } from './dom.ts';
import { describeError } from './format.ts';
import type { SessionClient, SignedIn } from './session-client.ts';

export interface AuthView {
  /** Shows sign-in, with a notice above the form when there is something to say (e.g. why). */
  open(options: { notice?: string }): void;
  /** Shows the form that sets a new password with the token of a reset link. */
  openReset(token: string): void;
}

type Form = 'sign-in' | 'sign-up' | 'forgot' | 'reset';
const titles: Record<Form, string> = { 'sign-in': 'Sign in', 'sign-up': 'Create an account', forgot: 'Reset your password', reset: 'Choose a new password' };

/**
 * Sign-in and sign-up: two plain forms (the browser's password manager understands them), native
 * validation for the obvious mistakes, and the service's own sentence for everything else.
 */
export function createAuthView(client: SessionClient, onSignedIn: (signedIn: SignedIn) => void): AuthView {
  const title = byId('auth-title');
  const notice = byId('auth-notice');
  const signInForm = byId<HTMLFormElement>('sign-in-form');
  const signUpForm = byId<HTMLFormElement>('sign-up-form');
  const forgotForm = byId<HTMLFormElement>('forgot-form');
  const resetForm = byId<HTMLFormElement>('reset-form');
  const forms: Record<Form, HTMLFormElement> = { 'sign-in': signInForm, 'sign-up': signUpForm, forgot: forgotForm, reset: resetForm };
  /** The token of the reset link this page was opened with; only in memory. */
  let resetToken = '';

  function show(which: Form) {
    for (const [name, form] of Object.entries(forms)) form.hidden = name !== which;
    title.textContent = titles[which];
    forms[which].querySelector('input')?.focus();
  }

  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-show]'))) {
    button.addEventListener('click', () => {
      notice.textContent = '';
      const which = button.dataset.show;
      show(which === 'sign-up' || which === 'forgot' ? which : 'sign-in');
    });
  }

  // Every field read is a text input: its value is a string (a File only comes from a file input).
  const text = (data: FormData, name: string) => {
    const value = data.get(name);
    return typeof value === 'string' ? value : '';
  };

  /**
   * Runs a form's request with the submit button busy; shows a failure as a sentence under the
   * form and goes back to its password field (the one most likely to need fixing), if it has one.
   */
  function busy(form: HTMLFormElement, busyLabel: string, submit: (data: FormData) => Promise<void>) {
    const error = byId(`${form.id.replace('-form', '')}-error`);
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    const idleLabel = button.textContent ?? '';
    // A listener's returned promise is dropped by the DOM: every failure is caught below and shown
    // under the form, so nothing is left to reject.
    form.addEventListener('submit', (event) => void onSubmit(event));
    async function onSubmit(event: SubmitEvent) {
      event.preventDefault();
      if (button.disabled) return;
      error.textContent = '';
      button.disabled = true;
      button.textContent = busyLabel;
      try {
        await submit(new FormData(form));
      } catch (failure) {
        error.textContent = describeError(failure);
        form.querySelector<HTMLInputElement>('input[type="password"]')?.select();
      } finally {
        button.disabled = false;
        button.textContent = idleLabel;
      }
    }
  }

  /** Sign-in and sign-up: on success the form is cleared and the devices are shown. */
  function handle(form: HTMLFormElement, submit: (data: FormData) => Promise<SignedIn>) {
    busy(form, form === signInForm ? 'Signing in…' : 'Creating account…', async (data) => {
      const signedIn = await submit(data);
      form.reset();
      notice.textContent = '';
      onSignedIn(signedIn);
    });
  }

  const forgotDone = byId('forgot-done');
  busy(forgotForm, 'Sending…', async (data) => {
    forgotDone.textContent = '';
    // The service says the same whether or not the address has an account; so does the page.
    forgotDone.textContent = await client.requestPasswordReset(text(data, 'email').trim());
  });
  busy(resetForm, 'Saving…', async (data) => {
    await client.confirmPasswordReset(resetToken, text(data, 'password'));
    resetToken = '';
    resetForm.reset();
    open({ notice: 'Your new password is set, and every session of your account has ended. Sign in with your new password.' });
  });

  handle(signInForm, (data) => client.signIn(text(data, 'email').trim(), text(data, 'password')));
  handle(signUpForm, (data) => client.signUp(text(data, 'email').trim(), text(data, 'password'), text(data, 'name').trim() || undefined));

  function open({ notice: message }: { notice?: string }) {
    notice.textContent = message ?? '';
    for (const id of ['sign-in-error', 'sign-up-error', 'forgot-error', 'reset-error', 'forgot-done']) byId(id).textContent = '';
    show('sign-in');
  }

  return {
    open,
    openReset(token) {
      resetToken = token;
      notice.textContent = '';
      show('reset');
    },
  };
}
