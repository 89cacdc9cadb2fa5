// A hash router: the dashboard is one page at /_/, and `#/collections/posts?filter=…` names the
// screen. Links are ordinary `<a href="#/…">`, so the browser's history, new tabs and copied
// addresses all work.
import { useEffect, useState } from 'preact/hooks';

/** The current location: `{ path: '/collections/posts', query: URLSearchParams }`. */
export function current() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const q = hash.indexOf('?');
  return {
    path: q < 0 ? hash : hash.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)),
  };
}

/** Builds `#/path?query` from a path and an object of query values (empty ones left out). */
export function href(path, query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** Goes to `path` (with `query`); `replace` keeps the history entry. */
export function navigate(path, query, { replace = false } = {}) {
  const target = href(path, query);
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** Changes some query values of the current screen, keeping the others. */
export function setQuery(changes, opts = { replace: true }) {
  const { path, query } = current();
  const next = Object.fromEntries(query);
  Object.assign(next, changes);
  navigate(path, next, opts);
}

/** The current location, re-rendering on every change. */
export function useLocation() {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const on = () => setLoc(current());
    window.addEventListener('hashchange', on);
    window.addEventListener('popstate', on);
    // a child's effect (a Redirect) may have navigated before this listener was added
    on();
    return () => {
      window.removeEventListener('hashchange', on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return loc;
}

/**
 * Matches `path` against `pattern` (`/collections/:name/edit`): the named parts, decoded, or
 * null. A trailing `*` matches the rest.
 */
export function match(pattern, path) {
  const p = pattern.split('/');
  const s = path.split('/');
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '*') {
      params.rest = s.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= s.length) return null;
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return p.length === s.length ? params : null;
}

/** Renders nothing and goes to `to` (replacing the history entry): a redirect from a render. */
export function Redirect({ to, query }) {
  useEffect(() => navigate(to, query, { replace: true }), [to, JSON.stringify(query ?? {})]);
  return null;
}
