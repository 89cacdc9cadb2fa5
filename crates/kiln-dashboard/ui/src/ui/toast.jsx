// Short notices in a corner (an ARIA live region, so screen readers announce them).
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

let nextId = 1;
let items = [];
const listeners = new Set();
const emit = () => listeners.forEach((l) => l(items));

/** Shows `message` for a few seconds; `kind`: 'success' | 'error' | 'info'. */
export function toast(message, kind = 'success') {
  if (!message) return;
  const id = nextId++;
  items = [...items, { id, message, kind }];
  emit();
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

function dismiss(id) {
  items = items.filter((i) => i.id !== id);
  emit();
}

export function Toasts() {
  const [list, setList] = useState(items);
  useEffect(() => {
    listeners.add(setList);
    return () => listeners.delete(setList);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((i) => (
        <div key={i.id} class={`toast toast-${i.kind}`}>
          <span>{i.message}</span>
          <button type="button" class="btn btn-icon btn-sm" onClick={() => dismiss(i.id)} aria-label={t('core.dismiss')}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
