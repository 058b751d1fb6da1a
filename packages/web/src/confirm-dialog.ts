import { byId } from './dom.ts';
import { describeError } from './format.ts';

export interface ConfirmOptions {
  title: string;
  body: string;
  /** The confirming button, e.g. "Sign out device". */
  confirmLabel: string;
  /** Shown on that button while the action runs, e.g. "Signing out…". */
  progressLabel: string;
  /** The work to do once confirmed. A rejection keeps the dialog open with the error as a sentence. */
  action: () => Promise<void>;
  /** Whether an error still belongs in the dialog (false once the page has moved on, e.g. to sign-in). */
  stillRelevant?: () => boolean;
}

/**
 * Asks before a sign-out, in the page's one modal <dialog>: focus moves into it (to Cancel, the
 * harmless choice), Escape and Cancel close it, and the browser returns focus to the opener. Once
 * confirmed, the dialog stays open and busy until the action is done, so the person sees progress
 * and, on failure, why. Resolves true when the action succeeded, false when it was cancelled.
 */
export function confirmAndRun(options: ConfirmOptions): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  const form = byId<HTMLFormElement>('confirm-form');
  const ok = byId<HTMLButtonElement>('confirm-ok');
  const cancel = byId<HTMLButtonElement>('confirm-cancel');
  const error = byId('confirm-error');

  byId('confirm-title').textContent = options.title;
  byId('confirm-body').textContent = options.body;
  error.textContent = '';
  ok.textContent = options.confirmLabel;
  setBusy(false);

  function setBusy(busy: boolean) {
    dialog.setAttribute('aria-busy', String(busy));
    ok.disabled = busy;
    cancel.disabled = busy;
    if (busy) ok.textContent = options.progressLabel;
  }

  return new Promise<boolean>((resolve) => {
    let busy = false;
    const finish = (succeeded: boolean) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancelClick);
      dialog.removeEventListener('cancel', onEscape);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(succeeded);
    };
    // The DOM drops a listener's promise: the action's failure is caught here and shown in the dialog.
    const onSubmit = (event: SubmitEvent) => void submit(event);
    const submit = async (event: SubmitEvent) => {
      event.preventDefault(); // stay open while the action runs
      if (busy) return;
      busy = true;
      error.textContent = '';
      setBusy(true);
      try {
        await options.action();
        finish(true);
      } catch (failure) {
        busy = false;
        if (options.stillRelevant && !options.stillRelevant()) return finish(false);
        setBusy(false);
        ok.textContent = options.confirmLabel;
        error.textContent = describeError(failure);
        ok.focus();
      }
    };
    const onCancelClick = () => finish(false);
    // Escape must not abandon a request under way: its result is still to be shown.
    const onEscape = (event: Event) => {
      if (busy) event.preventDefault();
    };
    const onClose = () => finish(false);

    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancelClick);
    dialog.addEventListener('cancel', onEscape);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    cancel.focus();
  });
}
