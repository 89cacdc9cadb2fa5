// The editing box shared by RuleEditor and FilterInput: a native <textarea> (or <input>) over a
// highlighted copy of its text, with the same font metrics, and a completion popup that follows
// the ARIA combobox pattern (the control keeps the focus; the options are announced through
// aria-activedescendant).
import { useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { useCollections } from '../../store/collections.js';
import { completions, isIdentChar, tokenize, wordAt } from './lexer.js';
import './rule-editor.css';

/** The highlighted copy of `value`: spans by token; `mark` inserts an empty span at that offset. */
function Highlight({ value, mark, problem }) {
  const toks = tokenize(value);
  const out = [];
  for (const tok of toks) {
    const cls = `tok tok-${tok.type}${tok.open || tok.bad ? ' tok-bad' : ''}${
      problem && tok.type !== 'ws' && tok.start < Math.max(problem.end, problem.start + 1) && tok.end > problem.start ? ' tok-problem' : ''
    }`;
    if (mark != null && mark >= tok.start && mark < tok.end) {
      if (mark > tok.start) out.push(<span class={cls}>{tok.text.slice(0, mark - tok.start)}</span>);
      out.push(<span class="caret-mark" data-mark="" />);
      out.push(<span class={cls}>{tok.text.slice(mark - tok.start)}</span>);
      continue;
    }
    out.push(tok.type === 'ws' ? tok.text : <span class={cls}>{tok.text}</span>);
  }
  if (mark != null && mark >= value.length) out.push(<span class="caret-mark" data-mark="" />);
  return out;
}

/**
 * Props: { id, value, onChange(next), multiline, rule (API rule completions), collection,
 * placeholder, ariaLabel, describedBy, invalid, problem ({start,end} to underline), onBlur,
 * onSubmit (one line: Enter), keyShortcuts (aria-keyshortcuts), title }.
 */
export function CodeBox({
  id,
  value,
  onChange,
  multiline = false,
  rule = false,
  collection,
  placeholder,
  ariaLabel,
  describedBy,
  invalid,
  problem,
  onBlur,
  onSubmit,
  inputRef,
  keyShortcuts,
  title,
}) {
  const cols = useCollections();
  const listId = useId();
  const own = useRef(null);
  const ctl = inputRef ?? own;
  const mirror = useRef(null);
  const box = useRef(null);
  const pendingCaret = useRef(null);
  const [pop, setPop] = useState(null); // { items, active, start, end }
  const [pos, setPos] = useState({ left: 0, top: 0 });
  const text = value ?? '';

  const ctx = useMemo(() => ({ collection, collections: cols.list, rule }), [collection, cols.list, rule]);

  /** Opens (or closes) the popup for the word at `caret` of `src`. */
  const suggest = (src, caret, force = false) => {
    const w = wordAt(src, caret);
    if (!w || (!w.word && !force)) return setPop(null);
    const items = completions(w.word, { ...ctx, force });
    if (!items.length) return setPop(null);
    setPop({ items, active: 0, start: w.start, end: w.end });
  };

  const accept = (item) => {
    if (!pop || !item) return;
    const next = text.slice(0, pop.start) + item.value + text.slice(pop.end);
    const caret = pop.start + item.value.length;
    pendingCaret.current = caret;
    onChange(next);
    // a path ending in '.' goes on: offer what follows
    if (item.value.endsWith('.')) suggest(next, caret);
    else setPop(null);
  };

  // put the caret after an accepted completion once the new value is rendered
  useLayoutEffect(() => {
    const el = ctl.current;
    if (pendingCaret.current != null && el) {
      el.setSelectionRange(pendingCaret.current, pendingCaret.current);
      pendingCaret.current = null;
    }
    sync();
  });

  // the popup sits under the start of the completed word
  useLayoutEffect(() => {
    if (!pop) return;
    const m = mirror.current?.querySelector('[data-mark]');
    const el = ctl.current;
    if (!m || !el) return;
    const lh = parseFloat(getComputedStyle(el).lineHeight) || 18;
    const width = box.current?.clientWidth ?? 300;
    const left = Math.max(0, Math.min(m.offsetLeft - el.scrollLeft, width - 260));
    const top = m.offsetTop - el.scrollTop + lh + 2;
    if (left !== pos.left || top !== pos.top) setPos({ left, top });
  }, [pop, text]);

  // keep the active option in view
  useEffect(() => {
    if (!pop) return;
    document.getElementById(`${listId}-${pop.active}`)?.scrollIntoView({ block: 'nearest' });
  }, [pop?.active]);

  function sync() {
    const el = ctl.current;
    const m = mirror.current;
    if (!el || !m) return;
    m.scrollTop = el.scrollTop;
    m.scrollLeft = el.scrollLeft;
  }

  const onInput = (e) => {
    let v = e.currentTarget.value;
    if (!multiline && /[\r\n]/.test(v)) v = v.replace(/[\r\n]+/g, ' ');
    onChange(v);
    const caret = e.currentTarget.selectionStart ?? v.length;
    const typed = e.data ?? '';
    // open while typing a name; close on anything else
    if (e.inputType?.startsWith('insert') && typed && isIdentChar(typed[typed.length - 1])) suggest(v, caret);
    else if (pop) suggest(v, caret);
  };

  const onKeyDown = (e) => {
    if (e.key === ' ' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      const el = e.currentTarget;
      suggest(el.value, el.selectionStart ?? el.value.length, true);
      return;
    }
    if (pop) {
      const n = pop.items.length;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const step = e.key === 'ArrowDown' ? 1 : -1;
        setPop({ ...pop, active: (pop.active + step + n) % n });
        return;
      }
      if (e.key === 'PageDown' || e.key === 'PageUp') {
        e.preventDefault();
        setPop({ ...pop, active: Math.max(0, Math.min(n - 1, pop.active + (e.key === 'PageDown' ? 8 : -8))) });
        return;
      }
      if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        accept(pop.items[pop.active]);
        return;
      }
      if (e.key === 'Escape') {
        // close the popup only, not a dialog around the editor
        e.preventDefault();
        e.stopPropagation();
        setPop(null);
        return;
      }
    }
    if (!multiline && e.key === 'Enter') {
      e.preventDefault();
      onSubmit?.(e.currentTarget.value);
    }
  };

  const onKeyUp = (e) => {
    // the caret moved away from the word: close
    if (pop && (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End')) {
      const el = e.currentTarget;
      const c = el.selectionStart ?? 0;
      if (c < pop.start || c > pop.end) setPop(null);
      else suggest(el.value, c);
    }
    sync();
  };

  const open = !!pop;
  const activeId = open ? `${listId}-${pop.active}` : undefined;
  const common = {
    id,
    ref: ctl,
    class: `code-input ${multiline ? 'code-multi' : 'code-single'}`,
    value: text,
    role: 'combobox',
    'aria-autocomplete': 'list',
    'aria-expanded': open ? 'true' : 'false',
    'aria-controls': open ? listId : undefined,
    'aria-activedescendant': activeId,
    'aria-label': ariaLabel,
    'aria-describedby': describedBy || undefined,
    'aria-invalid': invalid ? 'true' : undefined,
    'aria-keyshortcuts': keyShortcuts,
    title,
    placeholder,
    spellcheck: false,
    autocomplete: 'off',
    autocapitalize: 'off',
    autocorrect: 'off',
    onInput,
    onKeyDown,
    onKeyUp,
    onScroll: sync,
    onClick: () => pop && setPop(null),
    onBlur: (e) => {
      setPop(null);
      onBlur?.(e);
    },
  };

  return (
    <div class={`code-box ${multiline ? 'code-box-multi' : 'code-box-single'} ${invalid ? 'code-box-invalid' : ''}`} ref={box}>
      <div class="code-mirror" aria-hidden="true" ref={mirror}>
        <Highlight value={text} mark={open ? pop.start : null} problem={problem} />
        {/* keeps a last empty line (after a trailing newline) as tall as in the textarea */ '\u200b'}
      </div>
      {multiline ? <textarea {...common} rows={1} /> : <input type="text" {...common} enterkeyhint="search" />}
      {open && (
        <ul class="code-popup" role="listbox" id={listId} aria-label={t('rules.suggestionsLabel')} style={{ left: `${pos.left}px`, top: `${pos.top}px` }}>
          {pop.items.map((item, i) => (
            <li
              key={item.value}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === pop.active ? 'true' : 'false'}
              class={`code-option ${i === pop.active ? 'active' : ''}`}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => accept(item)}
            >
              <span class={`code-option-label tok-${KIND_TOKEN[item.kind] ?? 'field'}`}>{item.label}</span>
              <span class="code-option-kind">{item.detail || t(`rules.kind.${item.kind}`)}</span>
            </li>
          ))}
        </ul>
      )}
      <span class="sr-only" role="status" aria-live="polite">
        {open ? t('rules.suggestions', { count: pop.items.length }) : ''}
      </span>
    </div>
  );
}

const KIND_TOKEN = {
  field: 'field',
  relation: 'field',
  modifier: 'modifier',
  macro: 'macro',
  request: 'request',
  collection: 'collection',
  function: 'func',
  keyword: 'keyword',
};
