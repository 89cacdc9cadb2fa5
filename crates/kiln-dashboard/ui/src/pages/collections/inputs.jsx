// Small controlled inputs for the collection editor: numbers (empty → null or 0), lists typed as
// comma- or line-separated text, and dates shown in local time but kept as PocketBase's UTC form.
import { useEffect, useState } from 'preact/hooks';
import { parseDate } from '../../i18n/index.js';

/** A number input; `nullable` keeps an empty input as null (else 0). */
export function NumberInput({ value, onChange, nullable = false, min, step = 'any', ...rest }) {
  const [text, setText] = useState(value === null || value === undefined ? '' : String(value));
  useEffect(() => {
    const shown = text === '' ? (nullable ? null : 0) : Number(text);
    if (shown !== value && !(value === 0 && text === '' && !nullable)) setText(value === null || value === undefined ? '' : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      {...rest}
      class="input"
      type="number"
      inputMode="decimal"
      min={min}
      step={step}
      value={text}
      onInput={(e) => {
        const v = e.currentTarget.value;
        setText(v);
        if (v === '') onChange(nullable ? null : 0);
        else if (!Number.isNaN(Number(v))) onChange(Number(v));
      }}
    />
  );
}

const splitList = (s, sep) =>
  s
    .split(sep)
    .map((x) => x.trim())
    .filter(Boolean);

/** A list of strings typed as "a, b, c" (or one per line with `lines`). */
export function ListInput({ value, onChange, lines = false, ...rest }) {
  const join = (arr) => (arr ?? []).join(lines ? '\n' : ', ');
  const [text, setText] = useState(join(value));
  useEffect(() => {
    if (JSON.stringify(splitList(text, lines ? /\n/ : /,/)) !== JSON.stringify(value ?? [])) setText(join(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(value)]);
  const onInput = (e) => {
    const v = e.currentTarget.value;
    setText(v);
    onChange(splitList(v, lines ? /\n/ : /,/));
  };
  return lines ? <textarea {...rest} class="input" rows={4} value={text} onInput={onInput} /> : <input {...rest} class="input" value={text} onInput={onInput} />;
}

const pad = (n) => String(n).padStart(2, '0');

/** `2024-05-01 10:00:00.000Z` ↔ a datetime-local input (in the browser's time zone). */
export function DateInput({ value, onChange, ...rest }) {
  const d = parseDate(value);
  const local = d ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}` : '';
  return (
    <input
      {...rest}
      class="input"
      type="datetime-local"
      value={local}
      onInput={(e) => {
        const v = e.currentTarget.value;
        if (!v) return onChange('');
        const nd = new Date(v);
        if (!Number.isNaN(nd.getTime())) onChange(nd.toISOString().replace('T', ' '));
      }}
    />
  );
}
