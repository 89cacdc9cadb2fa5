// PLACEHOLDER: replaced by the area's real screen.
export function SettingsPage() {
  return <p class="pad">PLACEHOLDER SettingsPage</p>;
}
