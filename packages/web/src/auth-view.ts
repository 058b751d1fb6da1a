import { byId } from './dom.ts';
import { describeError } from './format.ts';
import type { SessionClient, SignedIn } from './session-client.ts';

export interface AuthView {
  /** Shows sign-in, with a notice above the form when there is something to say (e.g. why). */
  open(options: { notice?: string }): void;
}

/**
 * Sign-in and sign-up: two plain forms (the browser's password manager understands them), native
 * validation for the obvious mistakes, and the service's own sentence for everything else.
 */
export function createAuthView(client: SessionClient, onSignedIn: (signedIn: SignedIn) => void): AuthView {
  const title = byId('auth-title');
  const notice = byId('auth-notice');
  const signInForm = byId<HTMLFormElement>('sign-in-form');
  const signUpForm = byId<HTMLFormElement>('sign-up-form');

  function show(which: 'sign-in' | 'sign-up') {
    signInForm.hidden = which !== 'sign-in';
    signUpForm.hidden = which !== 'sign-up';
    title.textContent = which === 'sign-in' ? 'Sign in' : 'Create an account';
    (which === 'sign-in' ? signInForm : signUpForm).querySelector('input')?.focus();
  }

  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-show]'))) {
    button.addEventListener('click', () => {
      notice.textContent = '';
      show(button.dataset.show === 'sign-up' ? 'sign-up' : 'sign-in');
    });
  }

  /** Runs a form's request with the submit button busy; shows a failure as a sentence under the form. */
  function handle(form: HTMLFormElement, submit: (data: FormData) => Promise<SignedIn>) {
    const error = byId(`${form.id.replace('-form', '')}-error`);
    const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
    const idleLabel = button.textContent ?? '';
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (button.disabled) return;
      error.textContent = '';
      button.disabled = true;
      button.textContent = form === signInForm ? 'Signing in…' : 'Creating account…';
      try {
        const signedIn = await submit(new FormData(form));
        form.reset();
        notice.textContent = '';
        onSignedIn(signedIn);
      } catch (failure) {
        error.textContent = describeError(failure);
        // Back to the field most likely to need fixing; the alert is read out either way.
        form.querySelector<HTMLInputElement>('input[type="password"]')?.select();
      } finally {
        button.disabled = false;
        button.textContent = idleLabel;
      }
    });
  }

  const text = (data: FormData, name: string) => String(data.get(name) ?? '');
  handle(signInForm, (data) => client.signIn(text(data, 'email').trim(), text(data, 'password')));
  handle(signUpForm, (data) => client.signUp(text(data, 'email').trim(), text(data, 'password'), text(data, 'name').trim() || undefined));

  return {
    open({ notice: message }) {
      notice.textContent = message ?? '';
      for (const id of ['sign-in-error', 'sign-up-error']) byId(id).textContent = '';
      show('sign-in');
    },
  };
}
