// Every collection, loaded once after sign-in and again after any schema change the dashboard
// makes (call `reloadCollections()`), shared by the sidebar, the editors, the rules editor's
// completion and the relation pickers.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, pb } from '../api.js';

let state = { list: [], loading: false, error: '', loaded: false };
const listeners = new Set();
let inflight = null;

function set(next) {
  state = { ...state, ...next };
  for (const l of listeners) l(state);
}

/** Fetches the collections again; resolves with the list. */
export function reloadCollections() {
  if (inflight) return inflight;
  set({ loading: true });
  inflight = pb.collections
    .getFullList({ sort: 'name', batch: 500 })
    .then(
      (list) => {
        set({ list, loading: false, error: '', loaded: true });
        return list;
      },
      (err) => {
        set({ loading: false, error: errorMessage(err) });
        return state.list;
      },
    )
    .finally(() => (inflight = null));
  return inflight;
}

/** Forgets the collections (on sign-out). */
export function clearCollections() {
  set({ list: [], loaded: false, error: '' });
}

/** `{ list, loading, error, loaded }`, re-rendering on change; loads on first use. */
export function useCollections() {
  const [s, setS] = useState(state);
  useEffect(() => {
    listeners.add(setS);
    if (!state.loaded && !state.loading) reloadCollections();
    return () => listeners.delete(setS);
  }, []);
  return s;
}

/** The collection named or with id `nameOrId` in the loaded list. */
export function findCollection(nameOrId) {
  return state.list.find((c) => c.name === nameOrId || c.id === nameOrId) ?? null;
}

/** The loaded list, without subscribing. */
export function collectionsNow() {
  return state.list;
}
