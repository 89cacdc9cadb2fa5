// Tabs with the ARIA tab pattern: arrow keys, Home and End move between tabs.
import { useId, useRef } from 'preact/hooks';

/** `<Tabs tabs={[{id, label}]} active={id} onChange={setId}>{panel of the active tab}</Tabs>` */
export function Tabs({ tabs, active, onChange, children, label }) {
  const base = useId();
  const list = useRef(null);
  const onKey = (e) => {
    const i = tabs.findIndex((t) => t.id === active);
    let j = null;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = tabs.length - 1;
    if (j === null) return;
    e.preventDefault();
    onChange(tabs[j].id);
    list.current?.querySelectorAll('[role=tab]')[j]?.focus();
  };
  return (
    <div class="tabs">
      <div class="tab-list" role="tablist" aria-label={label} ref={list} onKeyDown={onKey}>
        {tabs.map((tab) => (
          <button
            type="button"
            role="tab"
            key={tab.id}
            id={`${base}-${tab.id}`}
            aria-selected={tab.id === active ? 'true' : 'false'}
            aria-controls={`${base}-panel`}
            tabIndex={tab.id === active ? 0 : -1}
            class={`tab ${tab.id === active ? 'active' : ''} ${tab.error ? 'tab-error' : ''}`}
            onClick={() => onChange(tab.id)}
          >
            {tab.label}
            {tab.error && <span class="dot-error" aria-label="!" />}
          </button>
        ))}
      </div>
      <div class="tab-panel" role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-${active}`}>
        {children}
      </div>
    </div>
  );
}
