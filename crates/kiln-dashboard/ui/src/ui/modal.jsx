// Dialogs on the native <dialog> element: modal, with the focus kept inside, Escape closes, and
// the focus goes back where it was on close.
import { useEffect, useId, useRef } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { Icon } from './icon.jsx';

/**
 * `<Modal open title="…" onClose={…} footer={…}>body</Modal>`. `size`: 'sm' | 'md' | 'lg' |
 * 'panel' (a tall panel on the right, for editors).
 */
export function Modal({ open, title, onClose, children, footer, size = 'md', class: cls = '', busy = false }) {
  const ref = useRef(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  // Unmounted while open (its owner went away, e.g. on a change of address): close it first, so
  // the focus goes back where it was instead of being lost with the dialog.
  useEffect(
    () => () => {
      if (ref.current?.open) ref.current.close();
    },
    [],
  );
  useEffect(() => {
    const d = ref.current;
    const cancel = (e) => {
      e.preventDefault();
      if (!busy) onClose?.();
    };
    d?.addEventListener('cancel', cancel);
    return () => d?.removeEventListener('cancel', cancel);
  }, [onClose, busy]);
  if (!open) return <dialog ref={ref} class="modal" hidden />;
  return (
    <dialog ref={ref} class={`modal modal-${size} ${cls}`} aria-labelledby={titleId}>
      <header class="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="btn btn-icon" onClick={() => onClose?.()} disabled={busy} aria-label={t('core.close')}>
          <Icon name="x" />
        </button>
      </header>
      <div class="modal-body">{children}</div>
      {footer && <footer class="modal-foot">{footer}</footer>}
    </dialog>
  );
}
