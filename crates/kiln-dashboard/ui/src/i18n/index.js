// Message catalogs and the chosen locale. Every text the dashboard shows comes from a catalog
// (`t('records.new')`), one file per area and language under en/ and de/; dates and numbers are
// formatted with the browser's Intl for the chosen locale. Catalogs are checked by
// tests/dashboard/i18n.test.mjs: every language has every key of English, and the same {names}.
import { useEffect, useState } from 'preact/hooks';
import en from './en/index.js';

/**
 * The languages offered, by BCP 47 tag, with their own names. English is in the bundle (it is
 * also every other language's fallback); the others are separate files, fetched when chosen.
 */
export const LOCALES = {
  en: { name: 'English', load: async () => en },
  de: { name: 'Deutsch', load: async () => (await import('./de/index.js')).default },
};

/** The loaded catalogs by tag. */
const loaded = { en };

const STORE_KEY = 'kiln_locale';

function initial() {
  const saved = localStorage.getItem(STORE_KEY);
  if (saved && LOCALES[saved]) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LOCALES[base]) return base;
  }
  return 'en';
}

let locale = 'en';
let plural = new Intl.PluralRules(locale);
const listeners = new Set();
document.documentElement.lang = locale;

export function getLocale() {
  return locale;
}

/** Loads the language chosen before (or the browser's): awaited once before the first render. */
export async function initLocale() {
  const tag = initial();
  if (tag !== 'en') await setLocale(tag);
}

/** Switches the language (kept in localStorage) and re-renders every user of `useLocale`. */
export async function setLocale(next) {
  if (!LOCALES[next] || next === locale) return;
  try {
    loaded[next] ??= await LOCALES[next].load();
  } catch {
    return; // the file could not be fetched (offline, or the server was updated): stay as we are
  }
  locale = next;
  plural = new Intl.PluralRules(locale);
  localStorage.setItem(STORE_KEY, next);
  document.documentElement.lang = next;
  for (const l of listeners) l(next);
}

/** The current locale; the calling component re-renders when it changes. */
export function useLocale() {
  const [value, set] = useState(locale);
  useEffect(() => {
    listeners.add(set);
    return () => listeners.delete(set);
  }, []);
  return value;
}

/**
 * The message `key` in the current language (English when missing), with `{name}` replaced by
 * `vars.name`. With `vars.count`, `key.one` / `key.other` (the locale's plural forms) are tried
 * first, and `{count}` is formatted as a number.
 */
export function t(key, vars) {
  const msgs = loaded[locale] ?? en;
  let text;
  if (vars && typeof vars.count === 'number') {
    const form = `${key}.${plural.select(vars.count)}`;
    text = msgs[form] ?? en[form] ?? msgs[`${key}.other`] ?? en[`${key}.other`];
  }
  text ??= msgs[key] ?? en[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in vars)) return whole;
    const v = vars[name];
    return typeof v === 'number' ? formatNumber(v) : String(v);
  });
}

/** A number in the current locale. */
export function formatNumber(n, options) {
  return new Intl.NumberFormat(locale, options).format(n);
}

/** Parses PocketBase's date form (`2024-05-01 10:00:00.123Z`) or any ISO date; null if empty. */
export function parseDate(value) {
  if (!value) return null;
  const d = new Date(String(value).replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A date and time in the current locale (`style`: Intl's dateStyle/timeStyle). */
export function formatDate(value, { date = 'medium', time = 'medium', utc = false } = {}) {
  const d = parseDate(value);
  if (!d) return '';
  const opts = {};
  if (date) opts.dateStyle = date;
  if (time) opts.timeStyle = time;
  if (utc) opts.timeZone = 'UTC';
  return new Intl.DateTimeFormat(locale, opts).format(d);
}

/** A byte count as "1.2 MB" in the current locale. */
export function formatBytes(n) {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'];
  let i = 0;
  let v = Number(n) || 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return new Intl.NumberFormat(locale, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: i ? 1 : 0 }).format(v);
}
