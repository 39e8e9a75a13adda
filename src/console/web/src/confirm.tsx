/**
 * A confirmation step in a modal <dialog>: the question, a confirming button and Cancel (focused
 * first, so Enter does not destroy anything by accident). Escape and Cancel close it; an error of
 * the confirmed action stays in the dialog.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useAction } from './action';
import { ErrorNote, useId } from './ui';

export function ConfirmDialog(props: {
  title: string;
  confirmLabel: string;
  children: ComponentChildren;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  const titleId = useId('confirm');
  const confirm = useAction(async () => {
    await props.onConfirm();
    props.onClose();
  });
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    const closed = () => onClose.current();
    dialog?.addEventListener('close', closed);
    return () => dialog?.removeEventListener('close', closed);
  }, []);
  return (
    <dialog ref={ref} class="signin-dialog confirm-dialog" aria-labelledby={titleId}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <ErrorNote error={confirm.error} />
      <div class="dialog-actions">
        <button type="button" class="secondary" autoFocus onClick={() => ref.current?.close()}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={confirm.busy} onClick={() => void confirm.run()}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
