// The one PocketBase SDK client of the dashboard. The API lives one level above /_/ (so a Kiln
// behind a reverse proxy under a path prefix works too); the superuser's session is kept in
// localStorage under its own key, apart from any app served from the same origin.
import PocketBase, { LocalAuthStore } from 'pocketbase';

export const SUPERUSERS = '_superusers';

export const apiBase = new URL('../', location.href).href.replace(/\/$/, '');

export const pb = new PocketBase(apiBase, new LocalAuthStore('kiln_superuser_auth'));
// The dashboard cancels its own stale requests where it needs to (see useRequest).
pb.autoCancellation(false);

/** Whether the stored session is a superuser's and not expired. */
export function signedIn() {
  return pb.authStore.isValid && pb.authStore.record?.collectionName === SUPERUSERS;
}

/** The message to show for a failed request (the API's own message when it sent one). */
export function errorMessage(err) {
  if (!err) return '';
  if (err.isAbort) return '';
  const data = err.response ?? err.data;
  if (data?.message) return data.message;
  if (err.status === 0) return 'The server cannot be reached.';
  return err.message || String(err);
}

/**
 * The API's field errors as a flat map: `{ "name": "Cannot be blank.", "fields.2.name": "…" }`.
 * Nested objects (collection fields, options) become dotted paths, so each form can put the
 * message next to the input it concerns.
 */
export function fieldErrors(err) {
  const out = {};
  const walk = (value, path) => {
    if (!value || typeof value !== 'object') return;
    if (typeof value.message === 'string' && typeof value.code === 'string') {
      out[path] = value.message;
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk((err?.response ?? err?.data)?.data, '');
  return out;
}

/** The field errors not shown by any input of a form (`shown` lists the paths that are). */
export function otherErrors(errors, shown) {
  return Object.entries(errors)
    .filter(([k]) => !shown.some((s) => k === s || k.startsWith(`${s}.`)))
    .map(([k, v]) => `${k}: ${v}`);
}

/** A file's URL for the dashboard (with a superuser file token for protected files). */
export function fileUrl(record, name, { thumb, token } = {}) {
  const q = {};
  if (thumb) q.thumb = thumb;
  if (token) q.token = token;
  return pb.files.getURL(record, name, q);
}
