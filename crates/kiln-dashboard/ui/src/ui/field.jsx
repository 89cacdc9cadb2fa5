// A labelled form control with its hint and the API's error for it, wired for screen readers
// (the control is described by the hint and the error, and marked invalid while it has one).
import { cloneElement, toChildArray } from 'preact';
import { useId } from 'preact/hooks';

/**
 * `<Field label="Name" error={errors.name} hint="…"><input class="input" …/></Field>`: the first
 * child element gets the id, aria-describedby and aria-invalid.
 */
export function Field({ label, error, hint, children, class: cls = '', inline = false, required = false }) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = error ? `${id}-err` : undefined;
  const described = [hintId, errId].filter(Boolean).join(' ') || undefined;
  const kids = toChildArray(children);
  const control = kids.find((k) => typeof k === 'object');
  const rest = kids.filter((k) => k !== control);
  const wired = control
    ? cloneElement(control, {
        id: control.props.id ?? id,
        'aria-describedby': described,
        'aria-invalid': error ? 'true' : undefined,
        required: control.props.required ?? (required || undefined),
      })
    : null;
  return (
    <div class={`field ${inline ? 'field-inline' : ''} ${error ? 'has-error' : ''} ${cls}`}>
      {inline ? (
        <>
          {wired}
          <label for={control?.props.id ?? id}>{label}</label>
        </>
      ) : (
        <>
          <label for={control?.props.id ?? id}>
            {label}
            {required && <span class="req" aria-hidden="true"> *</span>}
          </label>
          {wired}
        </>
      )}
      {rest}
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" id={errId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** A list of messages that no input shows (errors of the whole form). */
export function FormErrors({ messages }) {
  if (!messages?.length) return null;
  return (
    <div class="alert alert-error" role="alert">
      {messages.length === 1 ? messages[0] : <ul>{messages.map((m) => <li key={m}>{m}</li>)}</ul>}
    </div>
  );
}
