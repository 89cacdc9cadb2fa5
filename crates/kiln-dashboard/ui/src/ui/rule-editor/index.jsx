// PLACEHOLDER until the rules helper lands the highlighted, completing editor: the same props.
import { Field } from '../field.jsx';

/**
 * An API rule: `value` null means superusers only (locked), '' everyone, else a filter.
 * Props: { label, value, onChange(next), collection (the draft, for field names), error, hint,
 * allowNull = true }.
 */
export function RuleEditor({ label, value, onChange, error, hint }) {
  return (
    <Field label={label} error={error} hint={hint}>
      <textarea class="input mono" value={value ?? ''} onInput={(e) => onChange(e.currentTarget.value)} />
    </Field>
  );
}

/**
 * The records search: one line of the filter language. Props: { value, onChange(next),
 * onSubmit(value), collection, label, placeholder }.
 */
export function FilterInput({ value, onChange, onSubmit, label, placeholder }) {
  return (
    <input
      class="input mono"
      aria-label={label}
      placeholder={placeholder}
      value={value}
      onInput={(e) => onChange(e.currentTarget.value)}
      onKeyDown={(e) => e.key === 'Enter' && onSubmit?.(e.currentTarget.value)}
    />
  );
}
