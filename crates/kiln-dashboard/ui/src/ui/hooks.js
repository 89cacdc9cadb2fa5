// Small hooks shared by the pages.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from '../api.js';

/**
 * Runs `load()` (returning a promise) now and whenever `deps` change; a slower, older answer
 * never overwrites a newer one. Returns `{ data, error, loading, reload }`.
 */
export function useRequest(load, deps) {
  const [state, setState] = useState({ data: undefined, error: '', loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    return Promise.resolve()
      .then(load)
      .then(
        (data) => mine === seq.current && setState({ data, error: '', loading: false }),
        (err) => mine === seq.current && setState((s) => ({ data: s.data, error: errorMessage(err) || String(err), loading: false, raw: err })),
      );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    run();
  }, [run]);
  return { ...state, reload: run };
}

/** `value`, once it has stopped changing for `ms`. */
export function useDebounced(value, ms = 300) {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** Calls `fn` on `key` (e.g. 'mod+s', 'Escape', '/') pressed anywhere but in a text input. */
export function useHotkey(key, fn, { inInputs = false } = {}) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const on = (e) => {
      const mod = key.startsWith('mod+');
      const k = mod ? key.slice(4) : key;
      if (mod !== (e.ctrlKey || e.metaKey)) return;
      if (e.key.toLowerCase() !== k.toLowerCase()) return;
      const tag = e.target?.tagName;
      const typing = tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.target?.isContentEditable;
      if (typing && !inInputs && !mod) return;
      e.preventDefault();
      ref.current(e);
    };
    window.addEventListener('keydown', on);
    return () => window.removeEventListener('keydown', on);
  }, [key, inInputs]);
}
