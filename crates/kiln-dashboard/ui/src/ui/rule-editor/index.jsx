// The API rule editor and the filter input: PocketBase's filter language, highlighted, with
// completion of field names, relation paths, modifiers, @request.*, @collection.* and the macros,
// a syntax hint while typing, and (for a saved collection) a check with the server on blur.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { errorMessage, pb } from '../../api.js';
import { t } from '../../i18n/index.js';
import { useDebounced } from '../hooks.js';
import { collectionsNow } from '../../store/collections.js';
import { Icon } from '../icon.jsx';
import { CodeBox } from './code-box.jsx';
import { checkSyntax, looksLikeFilter, topLevelFields, usesRuleOnly } from './lexer.js';

/** The local syntax problem of `src` as `{ message, start, end }`, or null. */
function localProblem(src, collection) {
  if (!src || !src.trim()) return null;
  const names = (collection?.fields ?? []).map((f) => f?.name).filter(Boolean);
  const p = checkSyntax(src, { fields: names.length ? names : undefined });
  if (!p) return null;
  return { ...p, message: t(`rules.problem.${p.code}`, p.vars) };
}

/**
 * Whether the server would read `rule` with the same meaning as the draft: every field the rule
 * names at the top level exists, with the same type, in the collection as saved.
 */
function sameFieldsAsSaved(rule, draft) {
  const saved = collectionsNow().find((c) => c.id === draft.id);
  if (!saved) return false;
  for (const name of topLevelFields(rule)) {
    const a = (draft.fields ?? []).find((f) => f.name === name);
    const b = (saved.fields ?? []).find((f) => f.name === name);
    if (!a || !b || a.type !== b.type || (a.type === 'relation' && a.collectionId !== b.collectionId)) return false;
  }
  return true;
}

/**
 * An API rule: `value` null means superusers only (locked), '' everyone, else a filter.
 * Props: { label, value, onChange(next), collection (the draft, for field names), error, hint,
 * allowNull = true }.
 */
export function RuleEditor({ label, value, onChange, collection, error, hint, allowNull = true }) {
  const id = useId();
  const labelId = `${id}-label`;
  const input = useRef(null);
  const before = useRef(null); // the rule before locking, restored on unlock
  const focusAfterUnlock = useRef(false);
  const locked = value === null && allowNull;
  const text = value ?? '';
  const settled = useDebounced(text, 350);
  const problem = settled === text ? localProblem(text, collection) : null;
  const [server, setServer] = useState({ rule: null, message: '', checking: false });

  useEffect(() => {
    if (focusAfterUnlock.current && !locked) {
      focusAfterUnlock.current = false;
      input.current?.focus();
    }
  }, [locked]);

  const lock = () => {
    before.current = text;
    onChange(null);
  };
  const unlock = () => {
    focusAfterUnlock.current = true;
    onChange(before.current ?? '');
  };

  const check = () => {
    const rule = text.trim();
    if (!collection?.id || !rule || server.rule === text) return;
    if (localProblem(text, collection) || usesRuleOnly(text) || !sameFieldsAsSaved(text, collection)) return;
    setServer({ rule: text, message: '', checking: true });
    pb.collection(collection.id)
      .getList(1, 1, { filter: text, skipTotal: true, fields: 'id', requestKey: null })
      .then(
        () => setServer((s) => (s.rule === text ? { rule: text, message: '', checking: false } : s)),
        (err) =>
          setServer((s) =>
            s.rule === text
              ? { rule: text, message: err?.status === 400 ? t('rules.serverRejected', { message: errorMessage(err) }) : '', checking: false }
              : s,
          ),
      );
  };
  const serverMessage = server.rule === text ? server.message : '';

  const hintId = `${id}-hint`;
  const probId = `${id}-problem`;
  const errId = `${id}-error`;
  const described = [hintId, problem && probId, (error || serverMessage) && errId].filter(Boolean).join(' ');
  const everyone = !locked && text.trim() === '';

  return (
    <div class={`field rule-field ${error || serverMessage ? 'has-error' : ''} ${locked ? 'rule-locked' : ''}`}>
      <div class="rule-head">
        {locked ? (
          <span class="rule-label" id={labelId}>
            {label}
          </span>
        ) : (
          <label class="rule-label" for={id} id={labelId}>
            {label}
          </label>
        )}
        {locked && <span class="badge badge-warn">{t('rules.superusersOnly')}</span>}
        {!locked && allowNull && (
          <button type="button" class="btn btn-link rule-lock-btn" onClick={lock} aria-describedby={labelId}>
            <Icon name="lock" size={14} />
            {t('rules.setSuperusersOnly')}
          </button>
        )}
      </div>
      {locked ? (
        <div class="rule-locked-box" role="group" aria-labelledby={labelId}>
          <Icon name="lock" />
          <span class="grow">{t('rules.lockedText')}</span>
          <button type="button" class="btn btn-sm" onClick={unlock} aria-describedby={labelId}>
            {t('rules.unlock')}
          </button>
        </div>
      ) : (
        <CodeBox
          id={id}
          inputRef={input}
          value={text}
          onChange={(v) => onChange(v)}
          multiline
          rule
          collection={collection}
          placeholder={t('rules.placeholder')}
          describedBy={described}
          invalid={!!(error || serverMessage)}
          problem={problem}
          onBlur={check}
        />
      )}
      <p class="hint" id={hintId}>
        {locked ? t('rules.lockedHint') : everyone ? t(allowNull ? 'rules.everyone' : 'rules.everyoneApplies') : ''}
        {hint ? `${locked || everyone ? ' ' : ''}${hint}` : !locked && !everyone ? t('rules.filterHint') : ''}
      </p>
      {!locked && problem && (
        <p class="hint rule-problem" id={probId}>
          <Icon name="alert" size={14} />
          {problem.message}
        </p>
      )}
      {!locked && server.checking && server.rule === text && (
        <p class="hint">
          <span class="spinner rule-spinner" aria-hidden="true" /> {t('rules.checking')}
        </p>
      )}
      {(error || serverMessage) && (
        <p class="error" id={errId} role="alert">
          {error || serverMessage}
        </p>
      )}
    </div>
  );
}

/**
 * The records search: one line of the filter language. Props: { value, onChange(next),
 * onSubmit(value), collection, label, placeholder, inputRef, shortcut (the key of a global
 * shortcut that focuses it, e.g. '/': announced and shown while the input is empty) }.
 */
export function FilterInput({ value, onChange, onSubmit, collection, label, placeholder, inputRef, shortcut }) {
  const id = useId();
  const text = value ?? '';
  const settled = useDebounced(text, 350);
  const problem = settled === text && looksLikeFilter(text) ? localProblem(text, collection) : null;
  const probId = `${id}-problem`;
  return (
    <div class={`filter-input ${shortcut ? 'filter-input-key' : ''}`}>
      <CodeBox
        id={id}
        inputRef={inputRef}
        keyShortcuts={shortcut}
        title={shortcut ? t('rules.shortcut', { key: shortcut }) : undefined}
        value={text}
        onChange={(v) => onChange(v)}
        onSubmit={(v) => onSubmit?.(v)}
        collection={collection}
        ariaLabel={label ?? t('rules.filterLabel')}
        placeholder={placeholder ?? t('rules.filterPlaceholder')}
        describedBy={problem ? probId : undefined}
        problem={problem}
      />
      {shortcut && !text && (
        <kbd class="filter-key" aria-hidden="true">
          {shortcut}
        </kbd>
      )}
      {problem && (
        <p class="filter-problem" id={probId}>
          <Icon name="alert" size={14} />
          {problem.message}
        </p>
      )}
    </div>
  );
}
